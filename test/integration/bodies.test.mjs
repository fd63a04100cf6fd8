// Request and response bodies through sluice: intact in both framings,
// trailers passed on, and 1 GiB each way streamed in bounded memory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

let backend;
let sluice;

before(async () => {
  backend = await startBackend({ name: 'web' });
  sluice = await startSluice({
    static_resources: {
      listeners: [httpListener({
        // Bulk transfers get a generous route timeout: the point is memory, not speed.
        routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web', timeout: '120s' } }]),
      })],
      clusters: [staticCluster('web', [backend.port])],
    },
  });
});

after(async () => {
  if (sluice) assert.equal(await sluice.stop(), 0);
  await backend?.close();
});

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

// sluice holds at most a few 16 KiB buffers per connection and never a body,
// so a transfer may raise its peak RSS by allocator slack only: 32 MiB is
// generous for that and nothing like the 1 GiB a buffering proxy would need;
// in absolute terms it stays under 100 MiB (it idles near 17 MiB). Under
// AddressSanitizer freed memory sits in a quarantine of up to 256 MiB and
// shadow memory comes on top, so there the bound is only "well under the body".
function assertBoundedMemory(before, after) {
  const sanitized = readFileSync(`/proc/${sluice.pid}/maps`, 'utf8').includes('libasan');
  const growth = after.hwm - before.hwm;
  if (sanitized) {
    assert.ok(growth < 512 * 1024, `peak RSS grew by ${growth} KiB`);
    return;
  }
  assert.ok(growth < 32 * 1024, `peak RSS grew by ${growth} KiB`);
  assert.ok(after.hwm < 100 * 1024, `peak RSS ${after.hwm} KiB`);
}

// Sends `pieces` (Buffers) as the body of one request, chunked unless
// `contentLength` is given; resolves { res, body }.
async function upload({ path = '/echo', pieces, contentLength, method = 'POST', port = sluice.port() }) {
  const headers = contentLength === undefined ? {} : { 'content-length': contentLength };
  const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false });
  const responded = once(req, 'response');
  for (const piece of pieces) {
    if (!req.write(piece)) await once(req, 'drain');
  }
  req.end();
  const [res] = await responded;
  const chunks = [];
  for await (const c of res) chunks.push(c);
  return { res, body: Buffer.concat(chunks).toString('utf8') };
}

test('a content-length body arrives intact', async () => {
  const body = randomBytes(3 * MiB + 17);
  const { res, body: reply } = await upload({ pieces: [body], contentLength: body.length });
  assert.equal(res.statusCode, 200);
  const r = report(reply);
  assert.equal(r.bodyLength, body.length);
  assert.equal(r.bodySha256, sha256(body));
  assert.equal(r.header('content-length'), String(body.length));
  assert.equal(r.header('transfer-encoding'), undefined);
});

test('a chunked body arrives intact and stays chunked', async () => {
  const pieces = [1, 10, 4096, 65536, 100_000, 3].map((n) => randomBytes(n));
  const whole = Buffer.concat(pieces);
  const { res, body: reply } = await upload({ pieces });
  assert.equal(res.statusCode, 200);
  const r = report(reply);
  assert.equal(r.bodyLength, whole.length);
  assert.equal(r.bodySha256, sha256(whole));
  assert.equal(r.header('transfer-encoding'), 'chunked');
  assert.equal(r.header('content-length'), undefined);
});

test('an empty chunked body arrives as an empty body', async () => {
  const { res, body: reply } = await upload({ pieces: [] });
  assert.equal(res.statusCode, 200);
  assert.equal(report(reply).bodyLength, 0);
});

test('a chunked response keeps its trailer', async () => {
  const res = await request({ port: sluice.port(), path: '/chunked/5000', headers: { te: 'trailers' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers['transfer-encoding'], 'chunked');
  assert.equal(res.body, 'y'.repeat(5000));
  assert.deepEqual(res.trailers, { 'x-trailer': 'done' });
});

test('a close-delimited upstream response reaches an HTTP/1.1 client chunked, complete', async () => {
  // An upstream that frames its body by closing the connection (no length, not chunked).
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n' + 'z'.repeat(100_000)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'eof' } }]) })],
      clusters: [staticCluster('eof', [server.address().port])],
    },
  });
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 2; ++i) { // the client connection stays usable
      const res = await request({ port: s.port(), path: '/eof', agent });
      assert.equal(res.status, 200);
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      assert.equal(res.body, 'z'.repeat(100_000));
    }
    agent.destroy();
  } finally {
    assert.equal(await s.stop(), 0);
    server.close();
  }
});

// Streams `total` bytes up in 64 KiB pieces (a counter in each piece, so a
// lost, repeated or reordered piece changes the hash).
async function uploadLarge(total, { chunked = false } = {}) {
  const piece = Buffer.alloc(64 * 1024, 'u');
  const hash = createHash('sha256');
  const req = http.request({
    host: '127.0.0.1', port: sluice.port(), path: '/upload', method: 'POST', agent: false,
    headers: chunked ? {} : { 'content-length': total },
  });
  const responded = once(req, 'response');
  for (let sent = 0, n = 0; sent < total; sent += piece.length, ++n) {
    piece.writeUInt32BE(n, 0);
    const out = Buffer.from(piece); // write() may hold on to the buffer
    hash.update(out);
    if (!req.write(out)) await once(req, 'drain');
  }
  req.end();
  const [res] = await responded;
  let body = '';
  for await (const c of res) body += c;
  return { res, report: report(body), sha: hash.digest('hex') };
}

test('a 1 GiB upload streams through in bounded memory', async (t) => {
  const before = sluice.memory();
  const start = process.hrtime.bigint();
  const { res, report: r, sha } = await uploadLarge(GiB);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const after = sluice.memory();
  assert.equal(res.statusCode, 200);
  assert.equal(r.bodyLength, GiB);
  assert.equal(r.bodySha256, sha);
  t.diagnostic(`1 GiB upload: ${seconds.toFixed(2)} s, sluice RSS ${before.rss} KiB before, peak ${after.hwm} KiB`);
  assertBoundedMemory(before, after);
});

test('a 1 GiB chunked upload streams through in bounded memory', async (t) => {
  const before = sluice.memory();
  const start = process.hrtime.bigint();
  const { res, report: r, sha } = await uploadLarge(GiB, { chunked: true });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const after = sluice.memory();
  assert.equal(res.statusCode, 200);
  assert.equal(r.bodyLength, GiB);
  assert.equal(r.bodySha256, sha);
  t.diagnostic(`1 GiB chunked upload: ${seconds.toFixed(2)} s, sluice RSS ${before.rss} KiB before, peak ${after.hwm} KiB`);
  assertBoundedMemory(before, after);
});

test('a 1 GiB download streams through in bounded memory', async (t) => {
  const before = sluice.memory();
  const start = process.hrtime.bigint();
  const req = http.request({ host: '127.0.0.1', port: sluice.port(), path: `/bytes/${GiB}`, agent: false });
  req.end();
  const [res] = await once(req, 'response');
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-length'], String(GiB));
  let received = 0;
  let wrong = 0;
  for await (const c of res) {
    received += c.length;
    if (c[0] !== 0x78 || c[c.length - 1] !== 0x78) wrong += 1; // 'x'
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const after = sluice.memory();
  assert.equal(received, GiB);
  assert.equal(res.complete, true);
  assert.equal(wrong, 0);
  t.diagnostic(`1 GiB download: ${seconds.toFixed(2)} s, sluice RSS ${before.rss} KiB before, peak ${after.hwm} KiB`);
  assertBoundedMemory(before, after);
});

test('a 256 MiB chunked download (1 KiB chunks) streams through in bounded memory', async (t) => {
  const before = sluice.memory();
  const start = process.hrtime.bigint();
  const req = http.request({ host: '127.0.0.1', port: sluice.port(), path: `/chunked/${256 * MiB}`, agent: false });
  req.end();
  const [res] = await once(req, 'response');
  assert.equal(res.statusCode, 200);
  let received = 0;
  for await (const c of res) received += c.length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const after = sluice.memory();
  assert.equal(received, 256 * MiB);
  assert.deepEqual(res.trailers, { 'x-trailer': 'done' });
  t.diagnostic(`256 MiB chunked download: ${seconds.toFixed(2)} s, sluice RSS ${before.rss} KiB before, peak ${after.hwm} KiB`);
  assertBoundedMemory(before, after);
});

// An upstream that answers every request with interim (1xx) responses as soon
// as its head arrives, before it has read any of the body, then, once the
// whole body is in, with 200 and the body's length and SHA-256.
async function interimBackend(sendInterim) {
  const server = http.createServer(async (req, res) => {
    sendInterim(res);
    const hash = createHash('sha256');
    let length = 0;
    for await (const c of req) {
      hash.update(c);
      length += c.length;
    }
    res.setHeader('connection', 'close');
    res.end(JSON.stringify({ bodyLength: length, bodySha256: hash.digest('hex') }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

for (const [name, sendInterim] of [
  ['103 Early Hints', (res) => res.writeEarlyHints({ link: '</style.css>; rel=preload' })],
  ['an unasked 100 Continue', (res) => res.writeContinue()],
  ['two interim responses', (res) => {
    res.writeContinue();
    res.writeEarlyHints({ link: '</a.css>; rel=preload' });
  }],
]) {
  test(`${name} from the upstream before the body is read does not stop the body`, async () => {
    const server = await interimBackend(sendInterim);
    const s = await startSluice({
      static_resources: {
        listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'raw' } }]) })],
        clusters: [staticCluster('raw', [server.address().port])],
      },
    });
    try {
      for (const chunked of [false, true]) {
        const body = randomBytes(3 * MiB + 5);
        const pieces = [body.subarray(0, 1024)];
        for (let at = 1024; at < body.length; at += 256 * 1024) pieces.push(body.subarray(at, at + 256 * 1024));
        const { res, body: reply } = await upload({
          pieces, contentLength: chunked ? undefined : body.length, port: s.port(),
        });
        assert.equal(res.statusCode, 200, reply);
        assert.deepEqual(JSON.parse(reply), { bodyLength: body.length, bodySha256: sha256(body) });
      }
    } finally {
      assert.equal(await s.stop(), 0);
      server.close();
    }
  });
}

// A raw upstream that sends a response head and part of its body; cut() then
// ends the connection with a FIN (`end`) or a reset (`reset`).
async function cuttingBackend(head, how) {
  let upstream;
  const server = net.createServer((socket) => {
    upstream = socket;
    socket.once('data', () => socket.write(`${head}\r\n\r\npartial`));
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  server.cut = () => (how === 'reset' ? upstream.resetAndDestroy() : upstream.end());
  return server;
}

// Sends one request on a raw connection; once the partial body has arrived
// (read, so a reset is not lost behind unread bytes: Linux reports EOF then),
// cuts the upstream; resolves what arrived and how the connection ended:
// 'end' (FIN) or the error code (ECONNRESET).
function exchange(port, bytes, cut) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let cutting = false;
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (c) => {
      data += c.toString('latin1');
      if (!cutting && data.includes('partial')) {
        cutting = true;
        cut();
      }
    });
    socket.on('end', () => resolve({ data, ended: 'end' }));
    socket.on('error', (e) => resolve({ data, ended: e.code }));
  });
}

// Only a client that reads the body to the close is reset: the others see
// the cut in their framing (no last chunk, fewer bytes than content-length).
for (const [name, head, how, client, ended] of [
  ['a close-delimited response the upstream resets', 'HTTP/1.1 200 OK', 'reset', '1.0', 'ECONNRESET'],
  ['a close-delimited response the upstream resets', 'HTTP/1.1 200 OK', 'reset', '1.1', 'cut chunked'],
  ['a close-delimited response the upstream ends with a FIN', 'HTTP/1.1 200 OK', 'end', '1.0', 'end'],
  ['a content-length response the upstream cuts short', 'HTTP/1.1 200 OK\r\ncontent-length: 100', 'end', '1.0', 'cut short'],
]) {
  const outcome = { ECONNRESET: 'as a reset', end: 'complete, closed', 'cut chunked': 'closed without a last chunk',
    'cut short': 'closed short of its content-length' }[ended];
  test(`${name} reaches an HTTP/${client} client ${outcome}`, async () => {
    const server = await cuttingBackend(head, how);
    const s = await startSluice({
      static_resources: {
        listeners: [httpListener({
          routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'raw' } }]),
          hcm: { http_protocol_options: { accept_http_10: true } },
        })],
        clusters: [staticCluster('raw', [server.address().port])],
      },
    });
    try {
      const keepAlive = client === '1.0' ? 'connection: keep-alive\r\n' : '';
      const result = await exchange(s.port(), `GET / HTTP/${client}\r\nhost: x\r\n${keepAlive}\r\n`, server.cut);
      assert.match(result.data, /^HTTP\/1\.1 200 /);
      assert.equal(result.ended, ended === 'ECONNRESET' ? 'ECONNRESET' : 'end', result.data);
      // (An HTTP/1.1 client of a complete one gets its last chunk and keeps the
      // connection: 'a close-delimited upstream response reaches an HTTP/1.1 client chunked'.)
      if (ended === 'end') assert.ok(result.data.endsWith('partial'), result.data);
      if (ended === 'cut chunked') assert.ok(result.data.endsWith('7\r\npartial\r\n'), result.data);
      if (ended === 'cut short') assert.ok(result.data.endsWith('\r\n\r\npartial'), result.data);
    } finally {
      assert.equal(await s.stop(), 0);
      server.close();
    }
  });
}
