// WebSocket upgrades: allowed by the connection manager's upgrade_configs and
// not disabled by the route, tunnelled byte for byte both ways, half-close
// passed on in each direction.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { rawBody } from './lib/http.mjs';
import { requestLinePeer } from './lib/peers.mjs';

let echo;
let sluice;
const started = [];

const websocketHcm = { upgrade_configs: [{ upgrade_type: 'websocket' }] };

async function proxy({ hcm = websocketHcm, routeList, clusters } = {}) {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes(routeList ?? [{ match: { prefix: '/' }, route: { cluster: 'echo' } }]),
        hcm,
      })],
      clusters: clusters ?? [staticCluster('echo', [echo.port])],
    },
  });
  started.push(s);
  return s;
}

before(async () => {
  echo = await startBackend({ name: 'echo', websocket: true });
  sluice = await proxy({
    routeList: [
      {
        match: { prefix: '/no-ws' },
        route: { cluster: 'echo', upgrade_configs: [{ upgrade_type: 'websocket', enabled: false }] },
      },
      { match: { prefix: '/' }, route: { cluster: 'echo' } },
    ],
  });
});

after(async () => {
  for (const s of started) assert.equal(await s.stop(), 0);
  await echo?.close();
});

// Opens a ws client; resolves it once open, or the HTTP status it was refused with.
function connect(port, path = '/chat') {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (req, res) => {
      resolve({ status: res.statusCode });
      req.destroy();
    });
    ws.once('error', reject);
  });
}

test('echoes text and binary messages and closes cleanly with the code seen by both ends', async () => {
  const { ws } = await connect(sluice.port());
  assert.ok(ws, 'upgrade refused');
  ws.send('hello through sluice');
  const [text, textIsBinary] = await once(ws, 'message');
  assert.equal(textIsBinary, false);
  assert.equal(text.toString(), 'hello through sluice');

  const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256)); // > 64 KiB: extended length
  ws.send(binary);
  const [data, isBinary] = await once(ws, 'message');
  assert.equal(isBinary, true);
  assert.ok(Buffer.compare(data, binary) === 0, 'binary message changed');

  const serverSaw = once(echo.events, 'ws-close');
  const clientSaw = once(ws, 'close');
  ws.close(4001, 'done here');
  const [serverCode, serverReason] = await serverSaw;
  const [clientCode, clientReason] = await clientSaw;
  assert.equal(serverCode, 4001);
  assert.equal(serverReason, 'done here');
  assert.equal(clientCode, 4001); // the server echoes the close frame
  assert.equal(clientReason.toString(), 'done here');
});

test('many messages in both directions arrive in order', async () => {
  const { ws } = await connect(sluice.port());
  const received = [];
  const all = new Promise((resolve) => {
    ws.on('message', (m) => {
      received.push(m.toString());
      if (received.length === 500) resolve();
    });
  });
  for (let i = 0; i < 500; ++i) ws.send(`message ${i}`);
  await all;
  assert.deepEqual(received, Array.from({ length: 500 }, (_, i) => `message ${i}`));
  const closed = once(ws, 'close');
  ws.close(1000);
  assert.equal((await closed)[0], 1000);
});

test('refuses the upgrade with 403 without upgrade_configs', async () => {
  const s = await proxy({ hcm: {} });
  assert.deepEqual(await connect(s.port()), { status: 403 });
});

test('refuses the upgrade with 403 where the route disables websocket', async () => {
  assert.deepEqual(await connect(sluice.port(), '/no-ws/chat'), { status: 403 });
  const { ws } = await connect(sluice.port(), '/chat'); // the other route still upgrades
  assert.ok(ws);
  ws.terminate();
});

// ---- half-close, with both ends written by hand ----

// A raw upstream that answers any upgrade with 101 and then runs `session`
// on the socket (allowHalfOpen: a FIN from sluice does not close our side).
async function rawUpgradeServer(session) {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    let head = '';
    const onData = (chunk) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
        + 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n');
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      session(socket, rest);
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

// Connects to sluice, sends the upgrade by hand; resolves { socket, head, rest }.
async function rawUpgrade(port, { extra = '' } = {}) {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(socket, 'connect');
  socket.write('GET /raw HTTP/1.1\r\nHost: raw.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
    + 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n' + extra);
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause(); // the rest is read by whoever takes the socket
      resolve({ socket, head: buffered.subarray(0, end).toString('latin1'), rest: buffered.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

// Everything `socket` delivers until its end (FIN), starting with `first`.
function readToEnd(socket, first = Buffer.alloc(0)) {
  return new Promise((resolve, reject) => {
    const chunks = [first];
    socket.on('data', (c) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.once('error', reject);
    socket.resume();
  });
}

test('after the client half-closes, the upstream still gets its bytes and can answer', async () => {
  let upstreamGot;
  const server = await rawUpgradeServer((socket, rest) => {
    upstreamGot = readToEnd(socket, rest).then((text) => {
      // The client's FIN arrived: answer after it, then close our side.
      socket.end(`upstream got ${JSON.stringify(text)}; bye`);
      return text;
    });
  });
  try {
    const s = await proxy({ clusters: [staticCluster('echo', [server.address().port])] });
    const { socket, head, rest } = await rawUpgrade(s.port(), { extra: 'early-bytes;' });
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /\r\nupgrade: websocket/i);
    assert.match(head, /\r\nconnection: upgrade/i);
    socket.end('late-bytes'); // our last bytes, then FIN
    const reply = await readToEnd(socket, rest);
    assert.equal(await upstreamGot, 'early-bytes;late-bytes');
    assert.equal(reply, 'upstream got "early-bytes;late-bytes"; bye');
    socket.destroy();
  } finally {
    server.close();
  }
});

test('after the upstream half-closes, the client can still send and the upstream receives it', async () => {
  let upstreamGot;
  const server = await rawUpgradeServer((socket, rest) => {
    socket.end('server says goodbye first'); // FIN right after the 101
    upstreamGot = readToEnd(socket, rest);
  });
  try {
    const s = await proxy({ clusters: [staticCluster('echo', [server.address().port])] });
    const { socket, head, rest } = await rawUpgrade(s.port());
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.equal(await readToEnd(socket, rest), 'server says goodbye first');
    // Our direction is still open.
    socket.write('client keeps ');
    socket.end('talking');
    assert.equal(await upstreamGot, 'client keeps talking');
    socket.destroy();
  } finally {
    server.close();
  }
});

test('upgrades a connection that already served a plain request', async () => {
  const socket = net.connect({ port: sluice.port(), host: '127.0.0.1' });
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (c) => { received += c; });
  const waitFor = async (pattern) => {
    for (let i = 0; i < 100 && !pattern.test(received); ++i) await once(socket, 'data');
    assert.match(received, pattern);
  };
  socket.write('GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n');
  await waitFor(/^HTTP\/1\.1 204 [^]*\r\n\r\n$/);
  received = '';
  socket.write('GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
    + 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  await waitFor(/^HTTP\/1\.1 101 [^]*\r\n\r\n/);
  assert.match(received, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
  // One masked text frame, "hi"; the echo comes back unmasked.
  received = '';
  const mask = Buffer.from([1, 2, 3, 4]);
  const payload = Buffer.from('hi').map((b, i) => b ^ mask[i % 4]);
  socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | 2]), mask, payload]));
  await waitFor(/^\x81\x02hi$/);
  socket.destroy();
});

test('passes on an upstream\'s refusal to upgrade as a plain response', async () => {
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.write('HTTP/1.1 426 Upgrade Required\r\ncontent-length: 4\r\n\r\nnope'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const s = await proxy({ clusters: [staticCluster('echo', [server.address().port])] });
    const res = await new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${s.port()}/chat`);
      ws.once('unexpected-response', (req, r) => {
        let body = '';
        r.on('data', (c) => { body += c; });
        r.on('end', () => resolve({ status: r.statusCode, body }));
      });
      ws.once('open', () => reject(new Error('upgraded')));
      ws.once('error', reject);
    });
    assert.deepEqual(res, { status: 426, body: 'nope' });
  } finally {
    server.close();
    server.unref();
  }
});

test('serves an h2c upgrade request (curl --http2) as plain HTTP/1.1, without the upgrade headers', async () => {
  const reply = await new Promise((resolve, reject) => {
    const socket = net.connect(sluice.port(), '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write('GET /h2c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n'
      + 'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n'));
    socket.on('data', (c) => {
      data += c;
      const end = data.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(data);
      const complete = length ? data.length >= end + 4 + Number(length[1]) : data.endsWith('\r\n0\r\n\r\n');
      if (end >= 0 && complete) {
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 200 /);
  const r = JSON.parse(rawBody(reply));
  const names = r.headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  assert.equal(r.url, '/h2c');
  assert.ok(!names.includes('upgrade') && !names.includes('http2-settings'), names.join(' '));
});

test('closes a tunnel after stream_idle_timeout without traffic, and not while traffic flows', async () => {
  const s = await proxy({ hcm: { ...websocketHcm, stream_idle_timeout: '0.3s' } });
  const { ws } = await connect(s.port());
  assert.ok(ws, 'upgrade refused');
  let closedAt;
  const clientClosed = once(ws, 'close').then(([code]) => {
    closedAt = Date.now();
    return code;
  });
  const serverClosed = once(echo.events, 'ws-close');
  // Busy for three timeouts: a round trip every 100 ms keeps the tunnel open.
  const busyUntil = Date.now() + 900;
  let lastTraffic;
  while (Date.now() < busyUntil) {
    ws.send('still here');
    const [reply] = await once(ws, 'message');
    assert.equal(reply.toString(), 'still here');
    lastTraffic = Date.now();
    await new Promise((r) => setTimeout(r, 100)); // the pace of the traffic, not a wait for an event
  }
  assert.equal(closedAt, undefined, 'closed while busy');
  // Then silence: sluice closes both sides (no close frame: 1006 at the client).
  assert.equal(await clientClosed, 1006);
  await serverClosed;
  const idle = closedAt - lastTraffic;
  assert.ok(idle >= 290, `closed after ${idle} ms of silence`);
});

// A raw upstream that answers every request with `status` and records the
// request lines it saw.
function recordingBackend(status) {
  return requestLinePeer((line, socket) => {
    socket.write(`HTTP/1.1 ${status} Whatever\r\ncontent-length: 2\r\n\r\nno`);
  });
}

for (const status of [200, 400]) {
  test(`bytes after an upgrade request the upstream refuses (${status}) are never served as a request`, async () => {
    const { server, seen } = await recordingBackend(status);
    try {
      const s = await proxy({ clusters: [staticCluster('echo', [server.address().port])] });
      const smuggled = 'GET /smuggled HTTP/1.1\r\nhost: internal\r\n\r\n';
      const reply = await new Promise((resolve, reject) => {
        const socket = net.connect(s.port(), '127.0.0.1');
        let data = '';
        socket.on('connect', () => socket.write(
          'GET /chat HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n' +
          'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n' + smuggled));
        socket.on('data', (c) => {
          data += c.toString('latin1');
          // Without the fix a second response comes on the same connection.
          if ((data.match(/HTTP\/1\.1 /g) ?? []).length >= 2) socket.destroy();
        });
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
      });
      assert.equal((reply.match(/HTTP\/1\.1 /g) ?? []).length, 1, reply);
      assert.match(reply, new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.match(reply.toLowerCase(), /\r\nconnection: close\r\n/);
      assert.deepEqual(seen, ['GET /chat HTTP/1.1']);
    } finally {
      server.close();
      server.unref();
    }
  });
}
