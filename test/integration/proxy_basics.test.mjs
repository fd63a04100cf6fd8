// The proxy path end to end: real sluice, real backend (Node's HTTP server),
// real clients. What the backend received is asserted byte for byte.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { request, raw, rawBody } from './lib/http.mjs';

let backend;
let sluice;
let deadPort;

before(async () => {
  backend = await startBackend({ name: 'web' });
  // A port nobody listens on: bind, learn it, close.
  const closed = await startBackend({ name: 'gone' });
  deadPort = closed.port;
  await closed.close();
  sluice = await startSluice({
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes([
          { match: { prefix: '/dead' }, route: { cluster: 'dead' } },
          { match: { prefix: '/slow' }, route: { cluster: 'web', timeout: '0.2s', prefix_rewrite: '/delay/2000' } },
          { match: { prefix: '/' }, route: { cluster: 'web' } },
        ]),
      })],
      clusters: [staticCluster('web', [backend.port]), staticCluster('dead', [deadPort])],
    },
  });
});

after(async () => {
  await backend?.close();
  if (sluice) assert.equal(await sluice.stop(), 0);
});

test('forwards a GET and returns the upstream response', async () => {
  const res = await request({ port: sluice.port(), path: '/hello?x=1' });
  assert.equal(res.status, 200);
  const r = report(res.body);
  assert.equal(r.method, 'GET');
  assert.equal(r.url, '/hello?x=1');
  assert.equal(r.httpVersion, '1.1');
  assert.equal(r.header('host'), `127.0.0.1:${sluice.port()}`);
});

test('adds the proxy headers Envoy adds', async () => {
  const res = await request({ port: sluice.port() });
  const r = report(res.body);
  assert.equal(r.header('x-forwarded-proto'), 'http');
  assert.match(r.header('x-request-id'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(res.headers.server, 'sluice');
  assert.match(res.headers['x-envoy-upstream-service-time'], /^\d+$/);
});

test('keeps a client x-request-id', async () => {
  const res = await request({ port: sluice.port(), headers: { 'x-request-id': 'abc-123' } });
  assert.equal(report(res.body).header('x-request-id'), 'abc-123');
});

test('removes hop-by-hop headers and the headers Connection names', async () => {
  const res = await request({
    port: sluice.port(),
    headers: { connection: 'keep-alive, x-secret', 'x-secret': 's', 'keep-alive': 'timeout=5', 'proxy-connection': 'x', te: 'gzip', 'x-kept': 'k' },
  });
  const r = report(res.body);
  assert.equal(r.header('x-secret'), undefined);
  assert.equal(r.header('keep-alive'), undefined);
  assert.equal(r.header('proxy-connection'), undefined);
  assert.equal(r.header('te'), undefined);
  assert.equal(r.header('x-kept'), 'k');
});

test('answers 404 when no route matches', async () => {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { path: '/only' }, route: { cluster: 'web' } }]) })],
      clusters: [staticCluster('web', [backend.port])],
    },
  });
  try {
    const res = await request({ port: s.port(), path: '/other' });
    assert.equal(res.status, 404);
    assert.equal(res.body, '');
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('answers 503 with Envoy\'s text when the upstream refuses the connection', async () => {
  const res = await request({ port: sluice.port(), path: '/dead' });
  assert.equal(res.status, 503);
  assert.equal(res.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
});

test('answers 504 when the route timeout passes first', async () => {
  const res = await request({ port: sluice.port(), path: '/slow' });
  assert.equal(res.status, 504);
  assert.equal(res.body, 'upstream request timeout');
});

test('answers 400 and closes on a malformed request', async () => {
  const reply = await raw(sluice.port(), 'GET /  HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 400 /);
  assert.match(reply, /connection: close/i);
});

test('refuses HTTP/1.0 with 426 by default, as Envoy does', async () => {
  const reply = await raw(sluice.port(), 'GET /bytes/5 HTTP/1.0\r\nHost: x\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 426 /);
});

test('serves HTTP/1.0 clients with accept_http_10 and closes after the response', async () => {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]),
        hcm: { http_protocol_options: { accept_http_10: true, default_host_for_http_10: 'legacy.example' } },
      })],
      clusters: [staticCluster('web', [backend.port])],
    },
  });
  try {
    const reply = await raw(s.port(), 'GET /bytes/5 HTTP/1.0\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 /);
    assert.match(reply, /connection: close\r\n/);
    assert.match(reply, /\r\n\r\nxxxxx$/);
    const echoed = report((await raw(s.port(), 'GET /echo HTTP/1.0\r\n\r\n')).split('\r\n\r\n')[1]);
    assert.equal(echoed.header('host'), 'legacy.example');
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('sends no body for HEAD, 204 and 304', async () => {
  const head = await raw(sluice.port(), 'HEAD /bytes/100 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(head, /content-length: 100\r\n/i);
  assert.ok(head.endsWith('\r\n\r\n'), head);
  for (const status of [204, 304]) {
    const reply = await raw(sluice.port(), `GET /status/${status} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(reply, new RegExp(`^HTTP/1\\.1 ${status} `));
    assert.ok(reply.endsWith('\r\n\r\n'), reply);
  }
});

test('answers pipelined requests in order', async () => {
  const reply = await raw(sluice.port(),
    'GET /bytes/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/2 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const bodies = reply.split('HTTP/1.1 200 OK').slice(1).map((r) => r.split('\r\n\r\n')[1]);
  assert.deepEqual(bodies, ['x', 'xx', 'xxx']);
});

test('replies 100 Continue to Expect: 100-continue and forwards the body', async () => {
  const reply = await raw(sluice.port(),
    'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhello');
  assert.match(reply, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
  const r = report(rawBody(reply.slice(reply.indexOf('HTTP/1.1 200'))));
  assert.equal(r.bodyLength, 5);
  assert.equal(r.header('expect'), undefined);
});

test('answers 408 when the stream is idle for the route\'s idle_timeout', async () => {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes([
          { match: { prefix: '/slow' }, route: { cluster: 'web', timeout: '0s', idle_timeout: '0.3s', prefix_rewrite: '/delay/3000' } },
          { match: { prefix: '/' }, route: { cluster: 'web', timeout: '0s', idle_timeout: '5s' } },
        ]),
      })],
      clusters: [staticCluster('web', [backend.port])],
    },
  });
  try {
    const started = Date.now();
    const res = await request({ port: s.port(), path: '/slow' });
    assert.equal(res.status, 408);
    assert.equal(res.body, 'stream timeout');
    assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
    // A stream that keeps moving is not idle.
    assert.equal((await request({ port: s.port(), path: '/bytes/100' })).status, 200);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('answers 408 when a client stalls in the middle of its body (stream_idle_timeout)', async () => {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]),
        hcm: { stream_idle_timeout: '0.3s' },
      })],
      clusters: [staticCluster('web', [backend.port])],
    },
  });
  try {
    // 10 body bytes promised, 3 sent, then silence.
    const reply = await raw(s.port(), 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.match(reply, /connection: close/i);
    assert.ok(reply.endsWith('stream timeout'), reply);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});
