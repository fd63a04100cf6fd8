// Retries (route.retry_policy and the virtual host's) end to end against the
// real binary: each retry_on condition, num_retries, per_try_timeout under the
// route's timeout, previous_hosts, the x-envoy-* request headers (internal
// requests only), x-envoy-attempt-count, request bodies replayed only when
// kept within the buffer limit, the retry circuit breaker, the stats and the
// URX response flag. The backend follows a script per key: the n-th request
// to /k/<key>?plan=a,b,c gets the n-th action (the last one repeats): a status
// code, `tagged` (200 with x-retry-me: yes), `reset` (TCP RST), `close` (FIN
// before any byte) or `hang` (never answers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSluice, httpListener, staticCluster } from './lib/sluice.mjs';
import { request } from './lib/http.mjs';

// The scripted backend: what each key received ({count, bodies: [{length, sha}], attempts}).
async function scriptedBackend() {
  const seen = new Map();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const key = url.pathname.split('/')[2] ?? '';
    const plan = (url.searchParams.get('plan') ?? '200').split(',');
    const entry = seen.get(key) ?? { count: 0, bodies: [], attempts: [] };
    seen.set(key, entry);
    const action = plan[Math.min(entry.count, plan.length - 1)];
    entry.count += 1;
    entry.attempts.push(req.headers['x-envoy-attempt-count']);
    entry.headers = req.headers;
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (c) => { hash.update(c); length += c.length; });
    req.on('end', () => {
      entry.bodies.push({ length, sha: hash.digest('hex') });
      if (action === 'reset') return req.socket.resetAndDestroy();
      if (action === 'close') return req.socket.destroy();
      if (action === 'hang') return;
      const status = action === 'tagged' ? 200 : Number(action);
      res.writeHead(status, { 'content-length': 2, ...(action === 'tagged' ? { 'x-retry-me': 'yes' } : {}) });
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: server.address().port, seen: (key) => seen.get(key) ?? { count: 0, bodies: [], attempts: [] } };
}

async function closedPort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

let backend;
let sluice;
let dir;
let keyNumber = 0;
const key = () => `k${++keyNumber}`;
const fast = { base_interval: '0.001s', max_interval: '0.002s' };

function route(prefix, retry_policy, extra = {}) {
  return { match: { prefix }, route: { cluster: 'flaky', retry_policy: { retry_back_off: fast, ...retry_policy }, ...extra.route }, ...extra.outer };
}

before(async () => {
  backend = await scriptedBackend();
  const refused = await closedPort();
  dir = mkdtempSync(join(tmpdir(), 'sluice-retries-'));
  sluice = await startSluice({
    static_resources: {
      listeners: [httpListener({
        routeConfig: {
          virtual_hosts: [
            {
              name: 'counted', domains: ['counted'],
              include_request_attempt_count: true, include_attempt_count_in_response: true,
              retry_policy: { retry_on: '5xx', num_retries: 3, retry_back_off: fast },
              routes: [{ match: { prefix: '/' }, route: { cluster: 'flaky' } }],
            },
            {
              name: 'all', domains: ['*'],
              routes: [
                route('/5xx/', { retry_on: '5xx', num_retries: 2 }),
                route('/gateway/', { retry_on: 'gateway-error', num_retries: 2 }),
                route('/4xx/', { retry_on: 'retriable-4xx' }),
                route('/codes/', { retry_on: 'retriable-status-codes', retriable_status_codes: [418] }),
                route('/headers/', { retry_on: 'retriable-headers', retriable_headers: [{ name: 'x-retry-me', exact_match: 'yes' }] }),
                route('/reset/', { retry_on: 'reset' }),
                route('/refused-stream/', { retry_on: 'refused-stream,retriable-4xx' }),
                route('/pertry/', { retry_on: '5xx', per_try_timeout: '0.2s' }),
                route('/idle/', { retry_on: 'reset', per_try_idle_timeout: '0.2s' }),
                route('/bounded/', { retry_on: '5xx', num_retries: 20, per_try_timeout: '0.2s' }, { route: { timeout: '0.5s' } }),
                route('/small/', { retry_on: '5xx' }, { outer: { per_request_buffer_limit_bytes: 2000 } }),
                { match: { prefix: '/plain/' }, route: { cluster: 'flaky' } },
                { match: { prefix: '/cf/' }, route: { cluster: 'refused', retry_policy: { retry_on: 'connect-failure', num_retries: 2, retry_back_off: fast } } },
                { match: { prefix: '/prev/' }, route: { cluster: 'mixed', retry_policy: {
                  retry_on: 'connect-failure', num_retries: 1, retry_back_off: fast,
                  retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
                  host_selection_retry_max_attempts: 100 } } },
                { match: { prefix: '/nopred/' }, route: { cluster: 'mixed', retry_policy: { retry_on: 'connect-failure', num_retries: 1, retry_back_off: fast } } },
                { match: { prefix: '/breaker/' }, route: { cluster: 'breaker', retry_policy: { retry_on: '5xx', retry_back_off: fast } } },
                { match: { prefix: '/budget/' }, route: { cluster: 'budget', retry_policy: { retry_on: '5xx', retry_back_off: fast } } },
              ],
            },
          ],
        },
        hcm: {
          access_log: [{
            name: 'envoy.access_loggers.file',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
              path: join(dir, 'access.log'),
              log_format: { text_format_source: { inline_string: '%REQ(X-TEST-ID)% %RESPONSE_CODE% %RESPONSE_FLAGS%\n' } },
            },
          }],
        },
      })],
      clusters: [
        staticCluster('flaky', [backend.port], { circuit_breakers: { thresholds: [{ max_retries: 7, track_remaining: true }] } }),
        staticCluster('refused', [refused]),
        staticCluster('mixed', [refused, backend.port], { lb_policy: 'RANDOM' }),
        staticCluster('breaker', [backend.port], { circuit_breakers: { thresholds: [{ max_retries: 0 }] } }),
        staticCluster('budget', [backend.port], { circuit_breakers: { thresholds: [{
          max_retries: 100, retry_budget: { budget_percent: { value: 0 }, min_retry_concurrency: 0 } }] } }),
      ],
    },
  }, { concurrency: 1 });
});

after(async () => {
  assert.equal(await sluice.stop(), 0);
  backend.server.closeAllConnections();
  backend.server.close();
  rmSync(dir, { recursive: true, force: true });
});

const send = (path, { headers = {}, ...rest } = {}) => request({ port: sluice.port(), path, headers, ...rest });
const stat = async (name) => (await sluice.stat(name)) ?? 0;

// The flags of the access-log line of the request sent with x-test-id: `id`.
async function flagsOf(id) {
  const path = join(dir, 'access.log');
  const deadline = Date.now() + 5000;
  for (;;) {
    const line = existsSync(path) && readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith(`${id} `));
    if (line) return line.split(' ')[2];
    if (Date.now() > deadline) throw new Error(`no access-log line for ${id}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// The change of cluster stats across `body`.
async function deltas(cluster, names, body) {
  const before = {};
  for (const n of names) before[n] = await stat(`cluster.${cluster}.${n}`);
  await body();
  const out = {};
  for (const n of names) out[n] = (await stat(`cluster.${cluster}.${n}`)) - before[n];
  return out;
}

const RETRY_STATS = ['upstream_rq_retry', 'upstream_rq_retry_success', 'upstream_rq_retry_limit_exceeded',
  'upstream_rq_retry_backoff_exponential', 'upstream_rq_retry_overflow', 'upstream_rq_per_try_timeout',
  'retry_or_shadow_abandoned', 'upstream_rq_503'];

test('5xx: a 503 is retried until a try succeeds; the retries, the success and the back-offs are counted', async () => {
  const k = key();
  const d = await deltas('flaky', RETRY_STATS, async () => {
    const res = await send(`/5xx/${k}?plan=503,500,200`);
    assert.equal(res.status, 200);
  });
  assert.equal(backend.seen(k).count, 3);
  assert.equal(d.upstream_rq_retry, 2);
  assert.equal(d.upstream_rq_retry_success, 1);
  assert.equal(d.upstream_rq_retry_backoff_exponential, 2);
  assert.equal(d.upstream_rq_retry_limit_exceeded, 0);
  assert.equal(d.upstream_rq_503, 1);  // the retried answer is counted as any other
});

test('num_retries: the last retriable answer goes to the client with URX, and the limit is counted', async () => {
  const k = key();
  const d = await deltas('flaky', RETRY_STATS, async () => {
    const res = await send(`/5xx/${k}?plan=503`, { headers: { 'x-test-id': k } });
    assert.equal(res.status, 503);
    assert.equal(res.body, 'ok');  // the upstream's own answer
  });
  assert.equal(backend.seen(k).count, 3);  // the first try and num_retries: 2
  assert.equal(d.upstream_rq_retry, 2);
  assert.equal(d.upstream_rq_retry_limit_exceeded, 1);
  assert.equal(d.upstream_rq_retry_success, 0);
  assert.equal(await flagsOf(k), 'URX');
});

test('gateway-error retries 502, 503 and 504 but not 500', async () => {
  const k = key();
  assert.equal((await send(`/gateway/${k}?plan=502,504,200`)).status, 200);
  assert.equal(backend.seen(k).count, 3);
  const k2 = key();
  assert.equal((await send(`/gateway/${k2}?plan=500,200`)).status, 500);
  assert.equal(backend.seen(k2).count, 1);
});

test('5xx does not retry a 4xx; retriable-4xx retries a 409 only', async () => {
  const k = key();
  assert.equal((await send(`/5xx/${k}?plan=404,200`)).status, 404);
  assert.equal(backend.seen(k).count, 1);
  const k2 = key();
  assert.equal((await send(`/4xx/${k2}?plan=409,200`)).status, 200);
  assert.equal(backend.seen(k2).count, 2);
  const k3 = key();
  assert.equal((await send(`/4xx/${k3}?plan=503,200`)).status, 503);
  assert.equal(backend.seen(k3).count, 1);
});

test('retriable-status-codes retries the listed codes only', async () => {
  const k = key();
  assert.equal((await send(`/codes/${k}?plan=418,200`)).status, 200);
  assert.equal(backend.seen(k).count, 2);
  const k2 = key();
  assert.equal((await send(`/codes/${k2}?plan=503,200`)).status, 503);
  assert.equal(backend.seen(k2).count, 1);
});

test('retriable-headers retries a response whose head matches', async () => {
  const k = key();
  const res = await send(`/headers/${k}?plan=tagged,200`);
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-retry-me'], undefined);
  assert.equal(backend.seen(k).count, 2);
});

// POST: a GET failing on a reused connection is sent again anyway (the stale
// pooled connection rule), which would hide what the policy does.
test('reset retries a reset or a close before the head; without it the client gets 503 UC', async () => {
  for (const how of ['reset', 'close']) {
    const k = key();
    assert.equal((await send(`/reset/${k}?plan=${how},200`, { method: 'POST', body: 'x', headers: { 'content-length': 1 } })).status, 200, how);
    assert.equal(backend.seen(k).count, 2, how);
  }
  const k = key();
  const res = await send(`/refused-stream/${k}?plan=reset,200`, { method: 'POST', body: 'x', headers: { 'content-length': 1, 'x-test-id': k } });
  assert.equal(res.status, 503);  // refused-stream never matches over HTTP/1.1, retriable-4xx is no reset
  assert.equal(backend.seen(k).count, 1);
  assert.equal(await flagsOf(k), 'UC');
});

test('connect-failure retries a refused connection; when every try fails, 503 UF with URX', async () => {
  const k = key();
  const d = await deltas('refused', ['upstream_rq_retry', 'upstream_rq_retry_limit_exceeded', 'upstream_cx_connect_fail'], async () => {
    const res = await send(`/cf/${k}`, { headers: { 'x-test-id': k } });
    assert.equal(res.status, 503);
    assert.match(res.body, /reset reason: connection failure/);
  });
  assert.equal(d.upstream_rq_retry, 2);
  assert.equal(d.upstream_rq_retry_limit_exceeded, 1);
  assert.equal(d.upstream_cx_connect_fail, 3);
  assert.equal(await flagsOf(k), 'UF,URX');
});

test('previous_hosts: a retry picks a host not tried yet, so one bad host of two never fails a request', async () => {
  for (let i = 0; i < 30; i++) {
    const res = await send(`/prev/${key()}`);
    assert.equal(res.status, 200, `request ${i}`);
  }
});

test('without previous_hosts a retry may pick the bad host again (the predicate is what makes the difference)', async () => {
  let failed = 0;
  for (let i = 0; i < 40; i++) failed += (await send(`/nopred/${key()}`)).status === 503 ? 1 : 0;
  assert.ok(failed > 0, 'some request should have picked the refused host twice');
});

test('per_try_timeout: a try that hangs is cut and retried; the last try timing out is 504 UT', async () => {
  const k = key();
  const d = await deltas('flaky', RETRY_STATS, async () => {
    assert.equal((await send(`/pertry/${k}?plan=hang,200`)).status, 200);
  });
  assert.equal(backend.seen(k).count, 2);
  assert.equal(d.upstream_rq_per_try_timeout, 1);
  const k2 = key();
  const res = await send(`/pertry/${k2}?plan=hang`, { headers: { 'x-test-id': k2 } });
  assert.equal(res.status, 504);
  assert.equal(res.body, 'upstream request timeout');
  assert.equal(backend.seen(k2).count, 2);
  assert.match(await flagsOf(k2), /UT/);
});

test("the route's timeout bounds every try and back-off", async () => {
  const k = key();
  const start = Date.now();
  const res = await send(`/bounded/${k}?plan=hang`);
  const elapsed = Date.now() - start;
  assert.equal(res.status, 504);
  assert.ok(elapsed < 1500, `took ${elapsed} ms; 20 tries of 0.2s would take 4s`);
  assert.ok(backend.seen(k).count <= 3, `${backend.seen(k).count} tries within 0.5s of 0.2s each`);
});

test('a POST with a small body is retried and the backend sees the whole body again', async () => {
  const k = key();
  const body = 'b'.repeat(1500);
  const res = await send(`/small/${k}?plan=503,200`, { method: 'POST', body, headers: { 'content-length': body.length } });
  assert.equal(res.status, 200);
  const seen = backend.seen(k);
  assert.equal(seen.count, 2);
  assert.equal(seen.bodies[0].length, 1500);
  assert.deepEqual(seen.bodies[1], seen.bodies[0]);
});

test('a body above per_request_buffer_limit_bytes is not retried (retry_or_shadow_abandoned)', async () => {
  const k = key();
  const body = 'b'.repeat(5000);
  const d = await deltas('flaky', RETRY_STATS, async () => {
    const res = await send(`/small/${k}?plan=503,200`, { method: 'POST', body, headers: { 'content-length': body.length } });
    assert.equal(res.status, 503);
  });
  assert.equal(backend.seen(k).count, 1);
  assert.equal(backend.seen(k).bodies[0].length, 5000);
  assert.equal(d.retry_or_shadow_abandoned, 1);
  assert.equal(d.upstream_rq_retry, 0);
});

test('a chunked body is not retried', async () => {
  const k = key();
  const res = await new Promise((resolve, reject) => {
    const req = http.request({ port: sluice.port(), path: `/small/${k}?plan=503,200`, method: 'POST' }, (r) => {
      r.resume();
      r.on('end', () => resolve(r));
    });
    req.on('error', reject);
    req.write('abc');
    req.end('def');
  });
  assert.equal(res.statusCode, 503);
  assert.equal(backend.seen(k).count, 1);
});

test('x-envoy-retry-on and x-envoy-max-retries are honoured on an internal request and removed', async () => {
  const k = key();
  const res = await send(`/plain/${k}?plan=503,503,200`, {
    headers: { 'x-forwarded-for': '10.0.0.1', 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '2' },
  });
  assert.equal(res.status, 200);
  const seen = backend.seen(k);
  assert.equal(seen.count, 3);
  assert.equal(seen.headers['x-envoy-retry-on'], undefined);
  assert.equal(seen.headers['x-envoy-max-retries'], undefined);
});

test('the retry headers of an external request are removed and ignored', async () => {
  const k = key();
  const res = await send(`/plain/${k}?plan=503,200`, {
    headers: { 'x-forwarded-for': '203.0.113.7', 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '2',
      'x-envoy-upstream-rq-per-try-timeout-ms': '100' },
  });
  assert.equal(res.status, 503);
  const seen = backend.seen(k);
  assert.equal(seen.count, 1);
  assert.equal(seen.headers['x-envoy-retry-on'], undefined);
  assert.equal(seen.headers['x-envoy-upstream-rq-per-try-timeout-ms'], undefined);
});

test('x-envoy-upstream-rq-per-try-timeout-ms sets the per-try timeout of an internal request', async () => {
  const k = key();
  const res = await send(`/plain/${k}?plan=hang,200`, {
    headers: { 'x-forwarded-for': '10.0.0.1', 'x-envoy-retry-on': '5xx', 'x-envoy-upstream-rq-per-try-timeout-ms': '150' },
  });
  assert.equal(res.status, 200);
  assert.equal(backend.seen(k).count, 2);
});

test('x-envoy-attempt-count: each try carries its number, the response the number of tries', async () => {
  const k = key();
  const res = await send(`/${k}/${k}?plan=503,503,200`, { headers: { host: 'counted' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-envoy-attempt-count'], '3');
  assert.deepEqual(backend.seen(k).attempts, ['1', '2', '3']);
});

test("the virtual host's policy applies to its routes", async () => {
  const k = key();
  assert.equal((await send(`/x/${k}?plan=500,500,500,503`, { headers: { host: 'counted' } })).status, 503);
  assert.equal(backend.seen(k).count, 4);  // num_retries: 3
});

test('max_retries: a retry over the circuit breaker is not made and counts upstream_rq_retry_overflow', async () => {
  const k = key();
  const d = await deltas('breaker', ['upstream_rq_retry', 'upstream_rq_retry_overflow'], async () => {
    assert.equal((await send(`/breaker/${k}?plan=503,200`)).status, 503);
  });
  assert.equal(backend.seen(k).count, 1);
  assert.equal(d.upstream_rq_retry_overflow, 1);
  assert.equal(d.upstream_rq_retry, 0);
});

test('per_try_idle_timeout ends a try that hears nothing, and it is retried', async () => {
  const k = key();
  const d = await deltas('flaky', RETRY_STATS, async () => {
    assert.equal((await send(`/idle/${k}?plan=hang,200`)).status, 200);
  });
  assert.equal(backend.seen(k).count, 2);
  assert.equal(d.upstream_rq_per_try_timeout, 1);
});

test('retry_budget replaces max_retries: a budget of 0% and no minimum refuses every retry', async () => {
  const k = key();
  const d = await deltas('budget', ['upstream_rq_retry', 'upstream_rq_retry_overflow'], async () => {
    assert.equal((await send(`/budget/${k}?plan=503,200`)).status, 503);
  });
  assert.equal(backend.seen(k).count, 1);
  assert.equal(d.upstream_rq_retry_overflow, 1);
  assert.equal(d.upstream_rq_retry, 0);
});

test('track_remaining shows the retries left under max_retries (remaining_retries)', async () => {
  assert.equal(await sluice.stat('cluster.flaky.circuit_breakers.default.remaining_retries'), 7);
  assert.equal(await sluice.stat('cluster.flaky.circuit_breakers.default.rq_retry_open'), 0);
});

test('no retry policy: nothing is retried', async () => {
  const k = key();
  assert.equal((await send(`/plain/${k}?plan=503,200`)).status, 503);
  assert.equal(backend.seen(k).count, 1);
});
