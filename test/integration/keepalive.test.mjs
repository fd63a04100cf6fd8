// Upstream connection reuse: a keep-alive client is served over one pooled
// upstream connection; an upstream that says `connection: close` or closes
// idle connections itself never costs the client a failed request.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { requestLinePeer } from './lib/peers.mjs';

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function proxyTo(backend, { concurrency = 1 } = {}) {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) })],
      clusters: [staticCluster('web', [backend.port])],
    },
  }, { concurrency });
  cleanups.push(async () => assert.equal(await s.stop(), 0));
  return s;
}

function keepAliveAgent() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  cleanups.push(() => agent.destroy());
  return agent;
}

test('50 sequential requests on one client connection use one upstream connection', async () => {
  const backend = await startBackend({ name: 'web' });
  cleanups.push(() => backend.close());
  const s = await proxyTo(backend);
  const agent = keepAliveAgent();
  const upstreamIds = new Set();
  const clientSockets = new Set();
  for (let i = 0; i < 50; ++i) {
    const req = http.request({ host: '127.0.0.1', port: s.port(), path: `/r/${i}`, agent });
    req.on('socket', (socket) => clientSockets.add(socket));
    req.end();
    const [res] = await once(req, 'response');
    res.setEncoding('utf8');
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.equal(res.statusCode, 200);
    const r = report(body);
    assert.equal(r.url, `/r/${i}`);
    upstreamIds.add(r.connection);
  }
  assert.equal(clientSockets.size, 1, 'the client connection was reused');
  assert.deepEqual([...upstreamIds], [1]);
  assert.equal(backend.connections(), 1);
});

test('an upstream connection answered with connection: close is not reused, and the next request succeeds', async () => {
  const backend = await startBackend({ name: 'web' });
  cleanups.push(() => backend.close());
  const s = await proxyTo(backend);
  const agent = keepAliveAgent();
  const first = await request({ port: s.port(), path: '/one', agent });
  assert.equal(report(first.body).connection, 1);
  const closed = once(backend.events, 'connection-closed');
  const closing = await request({ port: s.port(), path: '/close', agent });
  assert.equal(closing.status, 200);
  assert.equal(closing.body, 'ok');
  assert.equal(closing.headers.connection, undefined, 'the upstream\'s close is not passed on to the client');
  await closed;
  for (let i = 0; i < 5; ++i) {
    const res = await request({ port: s.port(), path: '/after', agent });
    assert.equal(res.status, 200);
    assert.equal(report(res.body).connection, 2);
  }
  assert.equal(backend.connections(), 2);
});

test('requests after the upstream closed an idle pooled connection all succeed', async () => {
  // Node closes idle keep-alive connections after 50 ms.
  const backend = await startBackend({ name: 'web', keepAliveTimeout: 50 });
  cleanups.push(() => backend.close());
  const s = await proxyTo(backend);
  const agent = keepAliveAgent();
  for (let i = 0; i < 10; ++i) {
    const closed = once(backend.events, 'connection-closed');
    const res = await request({ port: s.port(), path: `/idle/${i}`, agent });
    assert.equal(res.status, 200, `request ${i}: ${res.body}`);
    assert.equal(report(res.body).connection, i + 1);
    await closed; // the upstream timed the pooled connection out
  }
});

test('requests racing the upstream\'s idle close never fail', async (t) => {
  // The next request is sent around the moment the upstream closes the idle
  // connection (its timeout is 40 ms; gaps run from 25 to 55 ms). A request
  // without a body that meets a connection closed under it is retried on a
  // new one, so the client never sees the race.
  const backend = await startBackend({ name: 'web', keepAliveTimeout: 40 });
  cleanups.push(() => backend.close());
  const s = await proxyTo(backend);
  const agent = keepAliveAgent();
  const failures = [];
  for (let i = 0; i < 60; ++i) {
    const res = await request({ port: s.port(), path: `/race/${i}`, agent });
    if (res.status !== 200) failures.push(`${i}: ${res.status} ${res.body}`);
    await new Promise((r) => setTimeout(r, 25 + (i % 31)));
  }
  t.diagnostic(`upstream connections for 60 requests: ${backend.connections()}`);
  assert.deepEqual(failures, []);
});

test('max_requests_per_connection retires an upstream connection after that many requests', async () => {
  const backend = await startBackend({ name: 'web' });
  cleanups.push(() => backend.close());
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) })],
      clusters: [staticCluster('web', [backend.port], { max_requests_per_connection: 2 })],
    },
  }, { concurrency: 1 });
  cleanups.push(async () => assert.equal(await s.stop(), 0));
  const agent = keepAliveAgent();
  const ids = [];
  for (let i = 0; i < 6; ++i) ids.push(report((await request({ port: s.port(), path: '/', agent })).body).connection);
  assert.deepEqual(ids, [1, 1, 2, 2, 3, 3]);
});

// An upstream that answers /warm and reads requests to any other path, then
// closes without answering: it may have acted on them, sluice cannot tell.
async function swallowingBackend() {
  const peer = await requestLinePeer((line, socket) => {
    if (line.startsWith('GET /warm ')) {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      return true;
    }
    socket.destroy();
    return false;
  });
  cleanups.push(() => peer.server.close());
  return peer;
}

for (const method of ['DELETE', 'POST', 'PUT', 'PATCH']) {
  test(`a bodiless ${method} on a reused connection that closes unanswered is sent once, not retried`, async () => {
    const backend = await swallowingBackend();
    const s = await proxyTo(backend);
    assert.equal((await request({ port: s.port(), path: '/warm' })).status, 200);  // pools a connection
    const res = await request({ port: s.port(), path: '/resource', method, headers: { 'content-length': '0' } });
    assert.equal(res.status, 503);
    assert.deepEqual(backend.seen, ['GET /warm HTTP/1.1', `${method} /resource HTTP/1.1`]);
    assert.equal(await s.stat('cluster.web.upstream_rq_retry'), 0);
  });
}

test('a GET on a reused connection that closes unanswered is retried once on a new connection', async () => {
  const backend = await swallowingBackend();
  const s = await proxyTo(backend);
  assert.equal((await request({ port: s.port(), path: '/warm' })).status, 200);
  const res = await request({ port: s.port(), path: '/resource' });
  assert.equal(res.status, 503);  // the retry, on a fresh connection, is not retried again
  assert.deepEqual(backend.seen, ['GET /warm HTTP/1.1', 'GET /resource HTTP/1.1', 'GET /resource HTTP/1.1']);
  assert.equal(await s.stat('cluster.web.upstream_rq_retry'), 1);
});
