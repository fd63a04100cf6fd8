// Timeouts and limits of the connection manager and the listeners, against
// the real binary: request_headers_timeout, request_timeout, stream idle while
// a head trickles in, the connection idle timeout, max_connection_duration,
// max_requests_per_connection, max_stream_duration, and the per-listener and
// global connection limits (runtime keys in a static layer).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { raw, request } from './lib/http.mjs';

let backend;

before(async () => {
  backend = await startBackend({ name: 'web' });
});

after(async () => {
  await backend?.close();
});

// Starts sluice with one listener per entry of `hcms` (name -> HCM fields),
// all routing to the backend, and `runtime` as a static layer.
async function start(hcms, runtime) {
  return startSluice({
    ...(runtime ? { layered_runtime: { layers: [{ name: 'static', static_layer: runtime }] } } : {}),
    static_resources: {
      listeners: Object.entries(hcms).map(([name, hcm]) => httpListener({
        name,
        routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web', timeout: '0s' } }]),
        hcm,
      })),
      clusters: [staticCluster('web', [backend.port])],
    },
  });
}

// Every client socket of the current test, destroyed after it.
const clients = [];
afterEach(() => {
  for (const socket of clients.splice(0)) socket.destroy();
});

// A client connection that collects what it receives; `closed` resolves at close.
async function connect(port) {
  const socket = net.connect(port, '127.0.0.1');
  const client = { socket, data: '' };
  socket.setEncoding('latin1');
  socket.on('data', (d) => { client.data += d; });
  socket.on('error', () => {}); // a refused connection may be reset: 'close' follows
  // Not events.once: it would reject on that 'error'.
  client.closed = new Promise((resolve) => socket.once('close', resolve));
  clients.push(socket);
  await once(socket, 'connect');
  // Resolves once the received bytes match `pattern`.
  client.waitFor = (pattern) => new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(client.data)) {
        socket.off('data', check);
        resolve(client.data);
      }
    };
    socket.on('data', check);
    socket.once('close', () => (pattern.test(client.data) ? resolve(client.data) : reject(new Error(`closed: ${client.data}`))));
    check();
  });
  return client;
}

const kGet = 'GET /x HTTP/1.1\r\nHost: x\r\n\r\n';
const responses = (data) => (data.match(/HTTP\/1\.1 \d{3}/g) || []).length;

test('request_headers_timeout: a head that trickles in gets 408 request header timeout', async () => {
  const s = await start({ l: { request_headers_timeout: '0.3s' } });
  try {
    const started = Date.now();
    const reply = await raw(s.port(), 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow:');
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.match(reply, /connection: close/i);
    assert.ok(reply.endsWith('request header timeout'), reply);
    assert.ok(Date.now() - started < 3000);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('stream_idle_timeout also bounds a head that trickles in (no request_headers_timeout)', async () => {
  const s = await start({ l: { stream_idle_timeout: '0.3s' } });
  try {
    const c = await connect(s.port());
    // One byte at a time: every byte comes within the idle time, the head never ends.
    const timer = setInterval(() => c.socket.write('X'), 50);
    c.socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    await c.closed;
    clearInterval(timer);
    assert.match(c.data, /^HTTP\/1\.1 408 /);
    assert.ok(c.data.endsWith('stream timeout'), c.data);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('request_timeout: a body that never ends gets 408 request timeout', async () => {
  const s = await start({ l: { request_timeout: '0.3s' } });
  try {
    const c = await connect(s.port());
    const timer = setInterval(() => c.socket.write('a'), 50); // busy, never idle
    c.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
    await c.closed;
    clearInterval(timer);
    assert.match(c.data, /^HTTP\/1\.1 408 /);
    assert.ok(c.data.endsWith('request timeout'), c.data);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('request_timeout stops once the request is read: a slow response is not cut', async () => {
  const s = await start({ l: { request_timeout: '0.3s' } });
  try {
    const reply = await raw(s.port(), 'GET /delay/600 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 /);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('max_stream_duration: 408 downstream duration timeout when the response is late', async () => {
  const s = await start({ l: { common_http_protocol_options: { max_stream_duration: '0.3s' } } });
  try {
    const reply = await raw(s.port(), 'GET /delay/3000 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.ok(reply.endsWith('downstream duration timeout'), reply);
    const fast = await raw(s.port(), 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(fast, /^HTTP\/1\.1 200 /);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('idle_timeout (common_http_protocol_options) closes a connection with no request in flight', async () => {
  const s = await start({ l: { common_http_protocol_options: { idle_timeout: '0.3s' } } });
  try {
    const c = await connect(s.port());
    c.socket.write(kGet);
    await c.waitFor(/"name":"web"/);
    // A request in flight longer than the idle timeout is not cut.
    c.socket.write('GET /delay/600 HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.closed;
    assert.equal(responses(c.data), 2, c.data);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('max_connection_duration: an idle connection closes, a busy one closes after its response', async () => {
  const s = await start({ l: { common_http_protocol_options: { max_connection_duration: '0.3s' } } });
  try {
    const idle = await connect(s.port());
    idle.socket.write(kGet);
    await idle.waitFor(/"name":"web"/);
    assert.doesNotMatch(idle.data, /connection: close/i);
    await idle.closed;

    const busy = await connect(s.port());
    busy.socket.write('GET /delay/600 HTTP/1.1\r\nHost: x\r\n\r\n');
    await busy.closed;
    assert.match(busy.data, /^HTTP\/1\.1 200 /);
    assert.match(busy.data, /connection: close/i);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('max_requests_per_connection: the last response says connection: close and the connection ends', async () => {
  const s = await start({ l: { common_http_protocol_options: { max_requests_per_connection: 2 } } });
  try {
    const c = await connect(s.port());
    c.socket.write(kGet + kGet + kGet);
    await c.closed;
    assert.equal(responses(c.data), 2, c.data);
    const [first, second] = c.data.split(/(?=HTTP\/1\.1 )/);
    assert.doesNotMatch(first, /connection: close/i);
    assert.match(second, /connection: close/i);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

// Opens a connection and proves sluice serves it (so it is counted).
async function served(port) {
  const c = await connect(port);
  c.socket.write(kGet);
  await c.waitFor(/"name":"web"/);
  return c;
}

// Connects and resolves true when sluice closes the connection before any
// byte, false when it answers a request.
async function refused(port) {
  const c = await connect(port);
  c.socket.write(kGet);
  try {
    await c.waitFor(/"name":"web"/);
    c.socket.destroy();
    return false;
  } catch {
    return true;
  }
}

// After a client closes a counted connection, sluice frees its slot when it
// sees the close; new connections are refused until then.
async function eventuallyServed(port) {
  for (let i = 0; i < 500; ++i) {
    if (!(await refused(port))) return true;
  }
  return false;
}

test('a listener connection limit (runtime) closes connections over it at once, across workers', async () => {
  const s = await start({ limited: {}, other: {} }, {
    envoy: { resource_limits: { listener: { limited: { connection_limit: 2 } } } },
  });
  try {
    const a = await served(s.port('limited'));
    const b = await served(s.port('limited'));
    assert.ok(await refused(s.port('limited')));
    // Both listeners bind 127.0.0.1:0, Envoy's stat name for either.
    assert.equal(await s.stat('listener.127.0.0.1_0.downstream_cx_overflow'), 1);
    // Other listeners are not limited.
    const others = [await served(s.port('other')), await served(s.port('other')), await served(s.port('other'))];
    a.socket.destroy();
    assert.ok(await eventuallyServed(s.port('limited')));
    for (const c of [b, ...others]) c.socket.destroy();
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('the global downstream connection limit (overload.global_downstream_max_connections) spans listeners', async () => {
  const s = await start({ one: {}, two: {} }, { overload: { global_downstream_max_connections: 3 } });
  try {
    const open = [await served(s.port('one')), await served(s.port('two')), await served(s.port('one'))];
    assert.ok(await refused(s.port('two')));
    assert.ok(await refused(s.port('one')));
    assert.equal(await s.stat('listener.127.0.0.1_0.downstream_global_cx_overflow'), 2);
    open[0].socket.destroy();
    assert.ok(await eventuallyServed(s.port('two')));
    for (const c of open) c.socket.destroy();
  } finally {
    assert.equal(await s.stop(), 0);
  }
});
