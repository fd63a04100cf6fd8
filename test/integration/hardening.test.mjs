// Hostile bytes against the real binary: request smuggling vectors, the
// codec's configurable rules (underscores, allow_chunked_length, sizes), bad
// upstream framing, and path normalisation. A recording backend proves what
// did and did not reach it, byte for byte.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { raw } from './lib/http.mjs';

// A backend (Node's strict HTTP parser) that records every byte it receives
// and every request it parses, and answers each with what it saw.
async function startRecorder() {
  const recorder = { bytes: '', requests: [] };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const seen = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() };
      recorder.requests.push(seen);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(seen));
    });
  });
  server.on('connection', (socket) => socket.on('data', (d) => { recorder.bytes += d.toString('latin1'); }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  recorder.port = server.address().port;
  recorder.reset = () => { recorder.bytes = ''; recorder.requests = []; };
  recorder.close = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
  return recorder;
}

// A TCP upstream that answers every request head with `response` verbatim.
async function startRawUpstream(response) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (d) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        head = '';
        socket.write(response);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: server.address().port,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(r); }),
  };
}

// The bad upstream responses: each must become a 502 with none of its bytes.
const kBadResponses = {
  cl_te: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nLEAK1\r\n0\r\n\r\n',
  two_cl: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nLEAK2!',
  te_gzip: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nLEAK3',
  bare_lf: 'HTTP/1.1 200 OK\nContent-Length: 5\n\nLEAK4',
  obs_fold: 'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 5\r\n\r\nLEAK5',
  bad_cl: 'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nLEAK6',
  http2_status: 'HTTP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nLEAK7',
  nul: 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 5\r\n\r\nLEAK8',
};

let recorder;
let sluice;
const rawUpstreams = {};

function listener(name, hcm, extraRoutes = []) {
  return httpListener({
    name,
    routeConfig: routes([
      ...extraRoutes,
      ...Object.keys(kBadResponses).map((k) => ({ match: { prefix: `/bad/${k}` }, route: { cluster: `bad_${k}` } })),
      { match: { prefix: '/' }, route: { cluster: 'recorder' } },
    ]),
    hcm,
  });
}

before(async () => {
  recorder = await startRecorder();
  for (const [k, response] of Object.entries(kBadResponses)) rawUpstreams[k] = await startRawUpstream(response);
  sluice = await startSluice({
    static_resources: {
      listeners: [
        listener('strict', {}),
        listener('chunked_length', { http_protocol_options: { allow_chunked_length: true } }),
        listener('reject_underscores', { common_http_protocol_options: { headers_with_underscores_action: 'REJECT_REQUEST' } }),
        listener('drop_underscores', { common_http_protocol_options: { headers_with_underscores_action: 'DROP_HEADER' } }),
        listener('small', { max_request_headers_kb: 1, common_http_protocol_options: { max_headers_count: 5 } }),
        listener('normalizing', { normalize_path: true, merge_slashes: true }, [
          { match: { prefix: '/private' }, direct_response: { status: 403, body: { inline_string: 'private' } } },
        ]),
        listener('escaped_reject', { path_with_escaped_slashes_action: 'REJECT_REQUEST' }),
        listener('escaped_redirect', { path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT', merge_slashes: true }),
        listener('escaped_forward', { path_with_escaped_slashes_action: 'UNESCAPE_AND_FORWARD', normalize_path: true }),
        listener('escaped_keep', { path_with_escaped_slashes_action: 'KEEP_UNCHANGED', normalize_path: true }),
      ],
      clusters: [
        staticCluster('recorder', [recorder.port]),
        ...Object.entries(rawUpstreams).map(([k, u]) => staticCluster(`bad_${k}`, [u.port])),
      ],
    },
  });
});

after(async () => {
  if (sluice) assert.equal(await sluice.stop(), 0);
  await recorder?.close();
  for (const u of Object.values(rawUpstreams)) await u.close();
});

const status = (reply) => Number(reply.slice(9, 12));
const bodyOf = (reply) => reply.slice(reply.indexOf('\r\n\r\n') + 4);

// Sends `bytes` to listener `name`, returns the whole reply (sluice closes after errors).
async function send(name, bytes) {
  return raw(sluice.port(name), bytes);
}

// ---- Smuggling: the smuggled request must never reach the backend ----

const kSmuggled = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const kSmugglingVectors = {
  'CL.TE': `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${kSmuggled}`,
  'TE.CL': `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 60\r\n\r\n0\r\n\r\n${kSmuggled}`,
  'TE.TE (space before colon)': `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${kSmuggled}`,
  'TE.TE (xchunked)': `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${kSmuggled}`,
  'TE.TE (chunked, identity)': `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${kSmuggled}`,
  'TE.TE (two fields)': `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n${kSmuggled}`,
  'TE.TE (obs-fold)': `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${kSmuggled}`,
  'TE on HTTP/1.0': `POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${kSmuggled}`,
  'two Content-Lengths': `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 37\r\n\r\n${kSmuggled}`,
  'Content-Length list': `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 37\r\n\r\n${kSmuggled}`,
  'bare LF line end': `POST / HTTP/1.1\nHost: x\nContent-Length: 37\n\n${kSmuggled}`,
  'bare CR in a value': `POST / HTTP/1.1\r\nHost: x\r\nX: a\rContent-Length: 37\r\n\r\n${kSmuggled}`,
  'chunk size with 0x': `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x0\r\n\r\n${kSmuggled}`,
  'chunk size overflow': `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n${kSmuggled}`,
};

for (const [name, bytes] of Object.entries(kSmugglingVectors)) {
  test(`a smuggled request never reaches the backend: ${name}`, async () => {
    recorder.reset();
    const reply = await send('strict', bytes);
    assert.ok([400, 501].includes(status(reply)), reply);
    assert.match(reply, /connection: close/i);
    assert.equal(reply.match(/HTTP\/1\.1 /g).length, 1, `one response only:\n${reply}`);
    assert.ok(!recorder.bytes.includes('/smuggled'), recorder.bytes);
    // Framing errors in the head stop everything; a bad chunk stops at the bad byte.
    assert.equal(recorder.requests.filter((r) => r.url === '/smuggled').length, 0);
  });
}

test('Content-Length with chunked is 400 by default and forwarded chunked with allow_chunked_length', async () => {
  const bytes = 'POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
  const strict = await send('strict', bytes);
  assert.equal(status(strict), 400);
  recorder.reset();
  const lenient = await raw(sluice.port('chunked_length'), bytes, { until: (r) => r.includes('"body":"hello"') });
  assert.equal(status(lenient), 200, lenient);
  assert.equal(recorder.requests[0].body, 'hello');
  assert.equal(recorder.requests[0].headers['content-length'], undefined);
  assert.equal(recorder.requests[0].headers['transfer-encoding'], 'chunked');
});

test('answers 501 to an unknown transfer coding and 505 to HTTP/2.0 or HTTP/1.2', async () => {
  assert.equal(status(await send('strict', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n')), 501);
  assert.equal(status(await send('strict', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n')), 505);
  assert.equal(status(await send('strict', 'GET / HTTP/1.2\r\nHost: x\r\n\r\n')), 505);
  assert.equal(status(await send('strict', 'GET / HTTP/1.1.1\r\nHost: x\r\n\r\n')), 400);
});

test('headers_with_underscores_action: ALLOW forwards, REJECT_REQUEST answers 400, DROP_HEADER drops the field', async () => {
  const bytes = 'GET /u HTTP/1.1\r\nHost: x\r\nX_Under: 1\r\nX-Dash: 2\r\nConnection: close\r\n\r\n';
  recorder.reset();
  assert.equal(status(await send('strict', bytes)), 200);
  assert.equal(recorder.requests[0].headers.x_under, '1');
  recorder.reset();
  const rejected = await send('reject_underscores', bytes);
  assert.equal(status(rejected), 400);
  assert.equal(recorder.requests.length, 0);
  recorder.reset();
  assert.equal(status(await send('drop_underscores', bytes)), 200);
  assert.equal(recorder.requests[0].headers.x_under, undefined);
  assert.equal(recorder.requests[0].headers['x-dash'], '2');
});

test('answers 431 over max_request_headers_kb and over max_headers_count', async () => {
  const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1100)}\r\n\r\n`;
  assert.equal(status(await send('small', big)), 431);
  assert.equal(status(await send('strict', big.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'))), 200);
  const many = `GET / HTTP/1.1\r\nHost: x\r\n${[1, 2, 3, 4, 5].map((i) => `X-${i}: ${i}\r\n`).join('')}\r\n`;
  assert.equal(status(await send('small', many)), 431);
});

for (const [name, response] of Object.entries(kBadResponses)) {
  test(`an upstream response with bad framing becomes a 502 without its bytes: ${name}`, async () => {
    const reply = await send('strict', `GET /bad/${name} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(status(reply), 502, reply);
    assert.ok(!reply.includes('LEAK'), reply);
    assert.equal(bodyOf(reply), 'upstream connect error or disconnect/reset before headers. reset reason: protocol error');
    assert.ok(response.includes('LEAK'));
  });
}

test('an upstream header name with an underscore is kept even where requests reject them', async () => {
  // headers_with_underscores_action applies to client requests only (as in Envoy).
  const u = await startRawUpstream('HTTP/1.1 200 OK\r\nX_Up: 1\r\nContent-Length: 2\r\n\r\nok');
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'u' } }]),
        hcm: { common_http_protocol_options: { headers_with_underscores_action: 'REJECT_REQUEST' } },
      })],
      clusters: [staticCluster('u', [u.port])],
    },
  });
  try {
    const reply = await raw(s.port(), 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(status(reply), 200, reply);
    assert.match(reply, /x_up: 1/i);
  } finally {
    assert.equal(await s.stop(), 0);
    await u.close();
  }
});

// ---- Path normalisation ----

async function seenPath(name, target) {
  recorder.reset();
  const reply = await send(name, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  return { status: status(reply), reply, url: recorder.requests[0]?.url };
}

test('normalize_path: routing sees, and the upstream gets, the normalised path', async () => {
  assert.equal((await seenPath('normalizing', '/public/../private')).status, 403);
  assert.equal((await seenPath('normalizing', '/public/%2e%2E/private')).status, 403);
  assert.equal((await seenPath('normalizing', '//private')).status, 403);
  const r = await seenPath('normalizing', '/a/./b/../%63%7E//d?q=/../x');
  assert.equal(r.status, 200);
  assert.equal(r.url, '/a/c~/d?q=/../x');
  // Without normalize_path the path is forwarded as it came.
  assert.equal((await seenPath('strict', '/public/../private')).url, '/public/../private');
});

test('path_with_escaped_slashes_action: KEEP_UNCHANGED, REJECT_REQUEST, UNESCAPE_AND_REDIRECT, UNESCAPE_AND_FORWARD', async () => {
  assert.equal((await seenPath('escaped_keep', '/a%2F..%2Fb/../c')).url, '/c');
  const rejected = await seenPath('escaped_reject', '/a%2fb');
  assert.equal(rejected.status, 400);
  assert.equal(rejected.url, undefined);
  assert.equal((await seenPath('escaped_reject', '/a?b=%2f')).status, 200);
  const redirected = await seenPath('escaped_redirect', '/a%2F%2Fb?q=1');
  assert.equal(redirected.status, 307);
  assert.match(redirected.reply, /\r\nlocation: \/a\/b\?q=1\r\n/i);
  assert.equal(redirected.url, undefined);
  assert.equal((await seenPath('escaped_forward', '/a%2F..%5Cb')).url, '/b');
});
