// Circuit breakers end to end: limits across every worker, the 503 UO answer
// with x-envoy-overloaded, the overflow counters and the open / remaining
// gauges. Backends hold their answers until the test releases them, so the
// number of requests in flight is known when the next one arrives.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { request } from './lib/http.mjs';

const servers = [];
after(async () => {
  for (const s of servers) s.closeAllConnections?.(), s.close();
});

// A backend that holds every request until release() answers them all.
async function holdingBackend() {
  const b = { held: [], received: 0 };
  const server = http.createServer((req, res) => {
    b.received += 1;
    b.held.push(res);
  });
  b.release = () => {
    for (const res of b.held.splice(0)) {
      res.writeHead(200, { 'content-length': 2 });
      res.end('ok');
    }
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  b.port = server.address().port;
  return b;
}

async function until(check, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function withSluice(port, circuit_breakers, body, { concurrency = 2 } = {}) {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'pool' } }]) })],
      clusters: [staticCluster('pool', [port], { circuit_breakers })],
    },
  }, { concurrency });
  try {
    await body(s);
  } finally {
    assert.equal(await s.stop(), 0);
  }
}

const stat = (s, name) => s.stat(`cluster.pool.${name}`).then((v) => v ?? 0);
const overloaded = (res) => {
  assert.equal(res.status, 503);
  assert.equal(res.headers['x-envoy-overloaded'], 'true');
  assert.match(res.body, /reset reason: overflow/);
};

test('max_requests: 2 with three concurrent slow requests: one 503 UO with x-envoy-overloaded, across workers', async () => {
  const b = await holdingBackend();
  const thresholds = [{ priority: 'DEFAULT', max_requests: 2, track_remaining: true }];
  await withSluice(b.port, { thresholds }, async (s) => {
    assert.equal(await stat(s, 'circuit_breakers.default.remaining_rq'), 2);
    // Two held, on separate client connections (likely separate workers).
    const first = [request({ port: s.port() }), request({ port: s.port() })];
    await until(() => b.received === 2, 'two requests at the backend');
    assert.equal(await stat(s, 'circuit_breakers.default.rq_open'), 1);
    assert.equal(await stat(s, 'circuit_breakers.default.remaining_rq'), 0);
    overloaded(await request({ port: s.port() }));
    assert.equal(await stat(s, 'upstream_rq_pending_overflow'), 1);
    assert.equal(b.received, 2, 'the third never reached the backend');
    const clusters = (await request({ port: Number(s.admin.split(':')[1]), path: '/clusters' })).body;
    assert.match(clusters, new RegExp(`^pool::127\\.0\\.0\\.1:${b.port}::rq_error::0$`, 'm'), 'not the host\'s error');
    b.release();
    for (const res of await Promise.all(first)) assert.equal(res.status, 200);
    await until(async () => (await stat(s, 'circuit_breakers.default.rq_open')) === 0, 'the breaker closed');
    assert.equal(await stat(s, 'circuit_breakers.default.remaining_rq'), 2);
    // Below the limit again: served.
    const next = request({ port: s.port() });
    await until(() => b.received === 3, 'the next request at the backend');
    b.release();
    assert.equal((await next).status, 200);
  });
});

test('max_connections: 1: a request that needs a second connection gets 503 UO; the pooled one serves the next', async () => {
  const b = await holdingBackend();
  const thresholds = [{ max_connections: 1 }];
  await withSluice(b.port, { thresholds }, async (s) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const held = request({ port: s.port(), agent });
    await until(() => b.received === 1, 'one request at the backend');
    assert.equal(await stat(s, 'circuit_breakers.default.cx_open'), 1);
    overloaded(await request({ port: s.port() }));
    assert.equal(await stat(s, 'upstream_cx_overflow'), 1);
    b.release();
    assert.equal((await held).status, 200);
    // The connection is pooled and still counts; the same worker reuses it.
    const next = request({ port: s.port(), agent });
    await until(() => b.received === 2, 'the next request at the backend');
    b.release();
    assert.equal((await next).status, 200);
    assert.equal(await stat(s, 'upstream_cx_overflow'), 1);
    assert.equal(await stat(s, 'upstream_cx_total'), 1);
    agent.destroy();
  }, { concurrency: 1 });
});

test('max_pending_requests: 0: a request that waits for a new connection overflows', async () => {
  const b = await holdingBackend();
  await withSluice(b.port, { thresholds: [{ max_pending_requests: 0 }] }, async (s) => {
    overloaded(await request({ port: s.port() }));
    assert.equal(await stat(s, 'upstream_rq_pending_overflow'), 1);
    assert.equal(b.received, 0);
  });
});

test('Envoy\'s defaults (1024/1024/1024/3) show in /clusters; configured thresholds replace DEFAULT only', async () => {
  const b = await holdingBackend();
  await withSluice(b.port, { thresholds: [{ max_requests: 7 }] }, async (s) => {
    const text = (await request({ port: Number(s.admin.split(':')[1]), path: '/clusters' })).body;
    assert.match(text, /^pool::default_priority::max_requests::7$/m);
    assert.match(text, /^pool::default_priority::max_connections::1024$/m);
    assert.match(text, /^pool::high_priority::max_requests::1024$/m);
    assert.match(text, /^pool::default_priority::max_retries::3$/m);
  });
});
