// Active health checking, EDS health_status and the panic threshold, end to
// end: the real binary against backends whose health the test drives (they
// fail N times, hang, refuse, flap, answer the wrong status, send
// x-envoy-immediate-health-check-fail). Every wait polls /clusters or /stats
// until a condition holds (bounded); intervals are 40-100 ms to keep it short.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, existsSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { request } from './lib/http.mjs';

const servers = [];
after(async () => {
  for (const s of servers) s.closeAllConnections?.(), s.close();
});

// An HTTP backend whose /healthz answer follows `mode` (a string, or a
// function of the check's index): ok (200), fail (503), hang (no answer),
// immediate (503 with x-envoy-immediate-health-check-fail), or a status
// number. Other paths answer 200 with x-backend: <name>; /passive adds the
// immediate-fail header to a proxied response.
async function hcBackend(name, mode = 'ok') {
  const b = { name, mode, checks: [], traffic: 0 };
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      const index = b.checks.length;
      b.checks.push({ headers: req.headers, raw: req.rawHeaders, at: Date.now() });
      const m = typeof b.mode === 'function' ? b.mode(index) : b.mode;
      if (m === 'hang') return;
      if (m === 'immediate') {
        res.writeHead(503, { 'x-envoy-immediate-health-check-fail': 'true', 'content-length': 0 });
        return res.end();
      }
      const status = m === 'ok' ? 200 : m === 'fail' ? 503 : Number(m);
      res.writeHead(status, { 'content-length': 0 });
      return res.end();
    }
    b.traffic += 1;
    const headers = { 'x-backend': name, 'content-length': 2 };
    if (req.url === '/passive') headers['x-envoy-immediate-health-check-fail'] = 'true';
    res.writeHead(200, headers);
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  b.port = server.address().port;
  return b;
}

// A port nothing listens on (connections are refused).
async function refusedPort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

const adminPort = (s) => Number(s.admin.split(':')[1]);

async function clustersText(s) {
  return (await request({ port: adminPort(s), path: '/clusters' })).body;
}

// health_flags of `port` in cluster `name`, from /clusters.
async function flags(s, port, name = 'pool') {
  const line = (await clustersText(s)).split('\n').find((l) => l.startsWith(`${name}::127.0.0.1:${port}::health_flags::`));
  return line?.split('::')[3];
}

// Polls `check` (async, truthy when done) every 20 ms for up to `ms`.
async function until(check, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const stat = (s, name) => s.stat(name).then((v) => v ?? 0);

// A short interval; a timeout long enough that a loaded machine does not turn a slow answer into a failure.
function httpCheck(extra = {}, http_health_check = {}) {
  return {
    timeout: '1s', interval: '0.05s', no_traffic_interval: '0.05s', unhealthy_threshold: 1, healthy_threshold: 1,
    http_health_check: { path: '/healthz', ...http_health_check }, ...extra,
  };
}

async function withSluice(ports, clusterExtra, body, { concurrency = 1 } = {}) {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'pool' } }]) })],
      clusters: [staticCluster('pool', ports, clusterExtra)],
    },
  }, { concurrency });
  try {
    await body(s);
  } finally {
    assert.equal(await s.stop(), 0);
  }
}

async function backendsOf(s, count, path = '/') {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen = {};
  try {
    for (let i = 0; i < count; ++i) {
      const res = await request({ port: s.port(), path, agent });
      const who = res.headers['x-backend'] ?? `status ${res.status}`;
      seen[who] = (seen[who] ?? 0) + 1;
    }
  } finally {
    agent.destroy();
  }
  return seen;
}

test('a passing HTTP check marks every host healthy, with Envoy/HC, the cluster name as host and the configured headers', async () => {
  const [a, b] = await Promise.all([hcBackend('a'), hcBackend('b')]);
  const check = httpCheck({}, {
    request_headers_to_add: [{ header: { key: 'x-probe', value: 'sluice' } }],
  });
  await withSluice([a.port, b.port], { health_checks: [check] }, async (s) => {
    await until(async () => (await stat(s, 'cluster.pool.health_check.healthy')) === 2, 'two healthy hosts');
    assert.equal(await flags(s, a.port), 'healthy');
    assert.equal(await stat(s, 'cluster.pool.membership_healthy'), 2);
    assert.ok((await stat(s, 'cluster.pool.health_check.success')) >= 2);
    assert.ok((await stat(s, 'cluster.pool.health_check.attempt')) >= 2);
    // Exists with Envoy's name; sluice has no service_name_matcher, so it counts nothing.
    assert.equal(await s.stat('cluster.pool.health_check.verify_cluster'), 0);
    const h = a.checks[0].headers;
    assert.equal(h.host, 'pool');
    assert.equal(h['user-agent'], 'Envoy/HC');
    assert.equal(h['x-probe'], 'sluice');
    assert.deepEqual(await backendsOf(s, 4), { a: 2, b: 2 });
  });
});

test('host, request_headers_to_remove and reuse_connection: false', async () => {
  const a = await hcBackend('a');
  let connections = 0;
  servers.at(-1).on('connection', () => { connections += 1; });
  const check = httpCheck({ reuse_connection: false }, { host: 'health.example', request_headers_to_remove: ['user-agent'] });
  await withSluice([a.port], { health_checks: [check] }, async (s) => {
    await until(() => a.checks.length >= 3, 'three checks');
    assert.equal(a.checks[0].headers.host, 'health.example');
    assert.equal(a.checks[0].headers['user-agent'], undefined);
    assert.equal(a.checks[0].headers.connection, 'close');
    assert.ok(connections >= 3, `a connection per check (${connections})`);
  });
});

test('reuse_connection (the default) keeps one connection for every check', async () => {
  const a = await hcBackend('a');
  let connections = 0;
  servers.at(-1).on('connection', () => { connections += 1; });
  await withSluice([a.port], { health_checks: [httpCheck()] }, async () => {
    await until(() => a.checks.length >= 4, 'four checks');
    assert.equal(connections, 1);
  });
});

test('a failing status fails a healthy host at once, whatever unhealthy_threshold, and traffic avoids it', async () => {
  const [a, b] = await Promise.all([hcBackend('a'), hcBackend('b')]);
  await withSluice([a.port, b.port], { health_checks: [httpCheck({ unhealthy_threshold: 5 })] }, async (s) => {
    await until(async () => (await stat(s, 'cluster.pool.health_check.healthy')) === 2, 'healthy');
    const before = a.checks.length;
    a.mode = 'fail';
    await until(async () => (await flags(s, a.port)) === '/failed_active_hc', 'a failed');
    assert.equal(a.checks.length, before + 1, 'one failing answer was enough');
    assert.equal(await stat(s, 'cluster.pool.membership_healthy'), 1);
    assert.ok((await stat(s, 'cluster.pool.health_check.failure')) >= 1);
    assert.equal(await stat(s, 'cluster.pool.health_check.network_failure'), 0);
    const json = JSON.parse((await request({ port: adminPort(s), path: '/clusters?format=json' })).body);
    const byPort = Object.fromEntries(json.cluster_statuses[0].host_statuses.map(
      (hs) => [hs.address.socket_address.port_value, hs.health_status]));
    assert.equal(byPort[a.port].failed_active_health_check, true);
    assert.equal(byPort[b.port].failed_active_health_check, undefined);  // false: proto3 JSON omits it
    assert.deepEqual(await backendsOf(s, 6), { b: 6 });
  });
});

test('expected_statuses decide what passes', async () => {
  const a = await hcBackend('a', '204');
  const b = await hcBackend('b', '204');
  const s1 = [a.port];
  await withSluice(s1, { health_checks: [httpCheck()] }, async (s) => {
    await until(() => a.checks.length >= 2, 'checks');
    assert.equal(await flags(s, a.port), '/failed_active_hc', '204 is not the default 200');
  });
  await withSluice([b.port], { health_checks: [httpCheck({}, { expected_statuses: [{ start: 200, end: 300 }] })] },
    async (s) => {
      await until(async () => (await flags(s, b.port)) === 'healthy', '204 in [200, 300)');
    });
});

test('healthy_threshold: a failed host needs that many passes in a row (a flapping host stays out)', async () => {
  // Checks 0..8: fail, then ok and fail in turn (never two passes in a row), ending with a failure; then ok.
  const a = await hcBackend('a', (i) => (i >= 9 ? 'ok' : i % 2 === 0 ? 'fail' : 'ok'));
  const b = await hcBackend('b');
  const check = httpCheck({ interval: '0.2s', no_traffic_interval: '0.2s', healthy_threshold: 2 });
  await withSluice([a.port, b.port], { health_checks: [check] }, async (s) => {
    await until(() => a.checks.length >= 9, 'nine checks of a flapping host');
    assert.equal(await flags(s, a.port), '/failed_active_hc');
    await until(async () => (await flags(s, a.port)) === 'healthy', 'a healthy after steady passes');
    assert.ok(a.checks.length >= 11, `two passes in a row (${a.checks.length} checks)`);
  });
});

test('timeouts count against unhealthy_threshold, as network failures, at unhealthy_edge_interval, and mark /active_hc_timeout', async () => {
  const a = await hcBackend('a');
  const b = await hcBackend('b');
  const check = httpCheck({ unhealthy_threshold: 3, timeout: '0.04s', unhealthy_edge_interval: '0.3s' });
  await withSluice([a.port, b.port], { health_checks: [check] }, async (s) => {
    await until(async () => (await flags(s, a.port)) === 'healthy', 'a healthy');
    // Traffic: the traffic intervals apply from now on (before, no_traffic_interval).
    await backendsOf(s, 2);
    await until(async () => (await stat(s, 'cluster.pool.upstream_cx_total')) >= 1, 'traffic');
    const from = a.checks.length + 1;  // the check in flight may have been scheduled before the traffic
    a.mode = 'hang';
    await until(async () => (await stat(s, 'cluster.pool.health_check.network_failure')) >= 2, 'two timeouts');
    assert.equal(await flags(s, a.port), 'healthy', 'two timeouts of three are not enough');
    await until(async () => (await flags(s, a.port)) === '/failed_active_hc/active_hc_timeout', 'a failed by timeouts');
    assert.ok((await stat(s, 'cluster.pool.health_check.network_failure')) >= 3);
    const hung = a.checks.slice(from);
    for (let i = 1; i < Math.min(hung.length, 3); ++i) {
      const gap = hung[i].at - hung[i - 1].at;
      assert.ok(gap >= 300, `a pending failure waits unhealthy_edge_interval (${gap} ms)`);
    }
    a.mode = 'ok';
    await until(async () => (await flags(s, a.port)) === 'healthy', 'a back');
  });
});

test('a refused connection is a network failure', async () => {
  const refused = await refusedPort();
  const b = await hcBackend('b');
  await withSluice([refused, b.port], { health_checks: [httpCheck({ unhealthy_threshold: 2 })] }, async (s) => {
    await until(async () => (await stat(s, 'cluster.pool.health_check.network_failure')) >= 2, 'refusals');
    assert.equal(await flags(s, refused), '/failed_active_hc');
    assert.deepEqual(await backendsOf(s, 4), { b: 4 });
  });
});

test('retriable_statuses count against unhealthy_threshold', async () => {
  const a = await hcBackend('a');
  await withSluice([a.port], {
    health_checks: [httpCheck({ unhealthy_threshold: 3 }, { retriable_statuses: [{ start: 429, end: 430 }] })],
  }, async (s) => {
    await until(async () => (await flags(s, a.port)) === 'healthy', 'healthy');
    const failures = await stat(s, 'cluster.pool.health_check.failure');
    a.mode = '429';
    await until(async () => (await stat(s, 'cluster.pool.health_check.failure')) >= failures + 2, 'two 429s');
    assert.equal(await flags(s, a.port), 'healthy');
    await until(async () => (await flags(s, a.port)) === '/failed_active_hc', 'failed after three');
  });
});

test('x-envoy-immediate-health-check-fail on a check excludes the host', async () => {
  const [a, b] = await Promise.all([hcBackend('a'), hcBackend('b')]);
  await withSluice([a.port, b.port], { health_checks: [httpCheck({ unhealthy_threshold: 3 })] }, async (s) => {
    await until(async () => (await stat(s, 'cluster.pool.health_check.healthy')) === 2, 'healthy');
    a.mode = 'immediate';
    await until(async () => (await flags(s, a.port)) === '/failed_active_hc/excluded_via_immediate_hc_fail', 'excluded');
    assert.equal(await stat(s, 'cluster.pool.membership_excluded'), 1);
    a.mode = 'ok';
    await until(async () => (await flags(s, a.port)) === 'healthy', 'a passing check clears the exclusion');
  });
});

test('x-envoy-immediate-health-check-fail on a proxied response fails the host at once and is stripped', async () => {
  const [a, b] = await Promise.all([hcBackend('a'), hcBackend('b')]);
  const check = httpCheck({ interval: '10s', no_traffic_interval: '10s', unhealthy_threshold: 5 });
  await withSluice([a.port, b.port], { health_checks: [check] }, async (s) => {
    await until(async () => (await stat(s, 'cluster.pool.health_check.healthy')) === 2, 'healthy');
    // Until both hosts answered one (either worker may take a request; a failed host
    // leaves the rotation, so the next request goes to the other).
    let stripped = true;
    await until(async () => {
      const res = await request({ port: s.port(), path: '/passive' });
      assert.equal(res.status, 200);
      if ('x-envoy-immediate-health-check-fail' in res.headers) stripped = false;
      return (await flags(s, a.port)) !== 'healthy' && (await flags(s, b.port)) !== 'healthy';
    }, 'both hosts reported');
    assert.ok(stripped, 'the client never sees the header');
    assert.ok((await stat(s, 'cluster.pool.health_check.passive_failure')) >= 2);
    assert.equal(await flags(s, a.port), '/failed_active_hc/excluded_via_immediate_hc_fail');
    assert.equal(await flags(s, b.port), '/failed_active_hc/excluded_via_immediate_hc_fail');
  }, { concurrency: 2 });  // two workers report to the main thread
});

test('without health_checks the immediate-fail header changes nothing but is stripped', async () => {
  const a = await hcBackend('a');
  await withSluice([a.port], {}, async (s) => {
    const res = await request({ port: s.port(), path: '/passive' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-envoy-immediate-health-check-fail'], undefined);
    assert.equal(await flags(s, a.port), 'healthy');
    assert.equal(await s.stat('cluster.pool.health_check.passive_failure'), undefined);
  });
});

test('TCP checks: send and receive payloads (hex), connect-only, wrong answers', async () => {
  const tcp = (reply) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});  // a timed-out check resets its connection
      socket.on('data', (d) => {
        if (d.toString().includes('PING')) socket.write(reply);
      });
    });
    server.listen(0, '127.0.0.1');
    servers.push(server);
    return once(server, 'listening').then(() => server.address().port);
  };
  const good = await tcp('..PO'), bad = await tcp('NOPE');
  const hex = (t) => Buffer.from(t).toString('hex');
  const check = {
    timeout: '0.1s', interval: '0.05s', no_traffic_interval: '0.05s', unhealthy_threshold: 1, healthy_threshold: 1,
    tcp_health_check: { send: { text: hex('PING\n') }, receive: [{ text: hex('PO') }] },
  };
  await withSluice([good, bad], { health_checks: [check] }, async (s) => {
    await until(async () => (await flags(s, good)) === 'healthy', 'the right answer passes');
    await until(async () => (await stat(s, 'cluster.pool.health_check.network_failure')) >= 2, 'failures');
    assert.equal(await flags(s, bad), '/failed_active_hc/active_hc_timeout');
  });
  const refused = await refusedPort();
  const connectOnly = { ...check, tcp_health_check: {} };
  await withSluice([bad, refused], { health_checks: [connectOnly] }, async (s) => {
    await until(async () => (await flags(s, bad)) === 'healthy', 'connect-only passes');
    await until(async () => (await flags(s, refused)) === '/failed_active_hc', 'refused fails');
  });
});

test('no_traffic_interval until the cluster has traffic, then interval and unhealthy_interval', async () => {
  const [a, b] = await Promise.all([hcBackend('a'), hcBackend('b', 'fail')]);
  const check = httpCheck({ interval: '30s', unhealthy_interval: '0.05s', no_traffic_interval: '0.05s' });
  await withSluice([a.port, b.port], { health_checks: [check], common_lb_config: { healthy_panic_threshold: { value: 0 } } },
    async (s) => {
      await until(() => a.checks.length >= 3, 'frequent checks of a healthy host without traffic');
      assert.equal((await request({ port: s.port(), path: '/' })).headers['x-backend'], 'a');
      await until(() => a.checks.length >= 1 && b.checks.length >= a.checks.length + 6, 'the failing host checked often');
      const settled = a.checks.length;
      await until(() => b.checks.length >= settled + 12, 'more checks of the failing host');
      assert.ok(a.checks.length <= settled + 1, `the healthy host waits out interval (${a.checks.length - settled})`);
    });
});

test('healthy_edge_interval while a failed host counts its passes, then interval', async () => {
  const a = await hcBackend('a', 'fail');
  const check = httpCheck({ interval: '30s', unhealthy_interval: '0.05s', healthy_threshold: 3, healthy_edge_interval: '0.3s' });
  await withSluice([a.port], { health_checks: [check] }, async (s) => {
    await until(async () => (await stat(s, 'cluster.pool.health_check.failure')) >= 1, 'a failed');
    // Traffic (panic routes it to the failed host), so the traffic intervals apply.
    assert.equal((await request({ port: s.port(), path: '/' })).status, 200);
    const from = a.checks.length;
    a.mode = 'ok';
    await until(async () => (await flags(s, a.port)) === 'healthy', 'a healthy after three passes');
    const passes = a.checks.slice(from);
    assert.ok(passes.length >= 3, `three passes (${passes.length})`);
    const last = passes.length - 1;
    for (const i of [last - 1, last]) {
      const gap = passes[i].at - passes[i - 1].at;
      assert.ok(gap >= 300, `a pending pass waits healthy_edge_interval (${gap} ms)`);
    }
    const settled = a.checks.length;
    await new Promise((r) => setTimeout(r, 400));  // what must NOT happen: a check before interval (30 s)
    assert.equal(a.checks.length, settled);
  });
});

test('initial_jitter and interval_jitter spread checks but keep them within bounds', async () => {
  const a = await hcBackend('a');
  const check = httpCheck({ initial_jitter: '0.2s', interval_jitter: '0.05s', interval_jitter_percent: 50 });
  const started = Date.now();
  await withSluice([a.port], { health_checks: [check] }, async () => {
    await until(() => a.checks.length >= 6, 'six checks');
    assert.ok(a.checks[0].at - started < 2000);
    const gaps = a.checks.slice(1).map((c, i) => c.at - a.checks[i].at);
    // interval 50 + up to 25 (50%) + up to 50; the upper bound is the unit tests' (a loaded machine stretches it here).
    for (const gap of gaps) assert.ok(gap >= 45, `gap ${gap} ms`);
    assert.ok(Math.max(...gaps) - Math.min(...gaps) >= 5, `jitter varies the gaps: ${gaps}`);
  });
});

test('the event log has Envoy HealthCheckEvent lines; always_log_health_check_failures logs every failure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hc-'));
  const path = join(dir, 'events.log');
  let fails = false;
  const a = await hcBackend('a', () => (fails ? 'fail' : 'ok'));
  const check = httpCheck({ event_log_path: path, always_log_health_check_failures: true });
  await withSluice([a.port], { health_checks: [check] }, async (s) => {
    await until(async () => (await flags(s, a.port)) === 'healthy', 'healthy');
    fails = true;
    await until(() => existsSync(path) &&
      readFileSync(path, 'utf8').split('\n').filter((l) => l.includes('health_check_failure_event')).length >= 2,
    'two failure events');
  });
  const events = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const first = events[0];
  assert.equal(first.health_checker_type, 'HTTP');
  assert.equal(first.cluster_name, 'pool');
  assert.deepEqual(first.host, { socket_address: { address: '127.0.0.1', port_value: a.port } });
  assert.deepEqual(first.add_healthy_event, { first_check: true });
  assert.match(first.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const eject = events.find((e) => e.eject_unhealthy_event);
  assert.deepEqual(eject.eject_unhealthy_event, { failure_type: 'ACTIVE' });
  assert.ok(events.filter((e) => e.health_check_failure_event?.failure_type === 'ACTIVE').length >= 2);
});

test('panic: below healthy_panic_threshold every host takes traffic and lb_healthy_panic counts', async () => {
  const [a, b, c] = await Promise.all([hcBackend('a'), hcBackend('b', 'fail'), hcBackend('c', 'fail')]);
  await withSluice([a.port, b.port, c.port], { health_checks: [httpCheck()] }, async (s) => {
    await until(async () => (await flags(s, b.port)) === '/failed_active_hc' && (await flags(s, a.port)) === 'healthy',
      'one healthy host of three');
    assert.deepEqual(await backendsOf(s, 6), { a: 2, b: 2, c: 2 });
    assert.equal(await stat(s, 'cluster.pool.lb_healthy_panic'), 6);
    b.mode = 'ok';
    await until(async () => (await flags(s, b.port)) === 'healthy', 'two of three healthy: out of panic');
    assert.deepEqual(await backendsOf(s, 4), { a: 2, b: 2 });
    assert.equal(await stat(s, 'cluster.pool.lb_healthy_panic'), 6);
  });
});

test('healthy_panic_threshold 0 disables panic: no healthy host is a 503', async () => {
  const [a, b] = await Promise.all([hcBackend('a', 'fail'), hcBackend('b', 'fail')]);
  const extra = { health_checks: [httpCheck()], common_lb_config: { healthy_panic_threshold: { value: 0 } } };
  await withSluice([a.port, b.port], extra, async (s) => {
    await until(async () => (await stat(s, 'cluster.pool.health_check.failure')) >= 2, 'both failed');
    const res = await request({ port: s.port(), path: '/' });
    assert.equal(res.status, 503);
    assert.equal(res.body, 'no healthy upstream');
    assert.equal(await stat(s, 'cluster.pool.upstream_cx_none_healthy'), 1);
    assert.equal(await stat(s, 'cluster.pool.lb_healthy_panic'), 0);
  });
});

// A STATIC cluster whose endpoints carry health_status.
function statusCluster(endpoints, extra = {}) {
  return {
    name: 'pool', connect_timeout: '1s',
    load_assignment: {
      cluster_name: 'pool',
      endpoints: [{
        lb_endpoints: endpoints.map(({ port, status }) => ({
          endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
          ...(status ? { health_status: status } : {}),
        })),
      }],
    },
    ...extra,
  };
}

async function withClusters(cluster, body) {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'pool' } }]) })],
      clusters: [cluster],
    },
  }, { concurrency: 1 });
  try {
    await body(s);
  } finally {
    assert.equal(await s.stop(), 0);
  }
}

test('health_status: UNHEALTHY, TIMEOUT and DRAINING hosts take no traffic; HEALTHY and UNKNOWN do', async () => {
  const hosts = await Promise.all(['h', 'u', 'x', 't', 'd'].map((n) => hcBackend(n)));
  const [h, u, x, t, d] = hosts;
  const cluster = statusCluster([
    { port: h.port, status: 'HEALTHY' }, { port: u.port, status: 'UNKNOWN' }, { port: x.port, status: 'UNHEALTHY' },
    { port: t.port, status: 'TIMEOUT' }, { port: d.port, status: 'DRAINING' },
  ], { common_lb_config: { healthy_panic_threshold: { value: 0 } } });
  await withClusters(cluster, async (s) => {
    assert.deepEqual(await backendsOf(s, 4), { h: 2, u: 2 });
    assert.equal(await flags(s, h.port), 'healthy');
    assert.equal(await flags(s, x.port), '/failed_eds_health');
    assert.equal(await flags(s, t.port), '/failed_eds_health');
    assert.equal(await flags(s, d.port), '/eds_status_draining');
    assert.equal(await stat(s, 'cluster.pool.membership_total'), 5);
    assert.equal(await stat(s, 'cluster.pool.membership_healthy'), 2);
    assert.equal(await stat(s, 'cluster.pool.membership_excluded'), 1);
    const json = JSON.parse((await request({ port: adminPort(s), path: '/clusters?format=json' })).body);
    const statuses = Object.fromEntries(json.cluster_statuses[0].host_statuses.map(
      (hs) => [hs.address.socket_address.port_value, hs.health_status.eds_health_status]));
    assert.equal(statuses[x.port], 'UNHEALTHY');
    assert.equal(statuses[d.port], 'DRAINING');
    assert.equal(statuses[h.port], 'HEALTHY');
  });
});

test('health_status DEGRADED: idle while enough hosts are healthy, Envoy\'s share when not, all when alone', async () => {
  const [h1, h2, h3, g] = await Promise.all(['h1', 'h2', 'h3', 'g'].map((n) => hcBackend(n)));
  await withClusters(statusCluster([{ port: h1.port }, { port: h2.port }, { port: h3.port },
    { port: g.port, status: 'DEGRADED' }]), async (s) => {
    assert.equal(await flags(s, g.port), '/degraded_eds_health');
    assert.equal(await stat(s, 'cluster.pool.membership_degraded'), 1);
    const seen = await backendsOf(s, 30);
    assert.equal(seen.g, undefined, '3 of 4 healthy: 1.4 * 75% covers all the load');
  });
  // 1 healthy, 1 degraded: healthy gets 1.4 * 50% = 70%, degraded 30%.
  await withClusters(statusCluster([{ port: h1.port }, { port: g.port, status: 'DEGRADED' }]), async (s) => {
    const seen = await backendsOf(s, 200);
    assert.ok(seen.g > 30 && seen.g < 90, `degraded share ${seen.g}/200`);
  });
  await withClusters(statusCluster([{ port: h1.port, status: 'UNHEALTHY' }, { port: g.port, status: 'DEGRADED' }],
    { common_lb_config: { healthy_panic_threshold: { value: 0 } } }), async (s) => {
    assert.deepEqual(await backendsOf(s, 5), { g: 5 });
  });
});

test('config: more than one health check, grpc_health_check and bad ranges are rejected by name', async () => {
  const { spawnSync } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hc-'));
  const validate = (cluster) => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ static_resources: { clusters: [cluster] } }));
    return spawnSync(process.env.SLUICE_BINARY, ['--mode', 'validate', '-c', file], { encoding: 'utf8' });
  };
  const base = staticCluster('pool', [1]);
  let r = validate({ ...base, health_checks: [httpCheck(), httpCheck()] });
  assert.match(r.stderr + r.stdout, /clusters\[0\]\.health_checks: sluice runs one health check per cluster/);
  r = validate({ ...base, health_checks: [{ timeout: '1s', interval: '1s', unhealthy_threshold: 1, healthy_threshold: 1,
    grpc_health_check: {} }] });
  assert.match(r.stderr + r.stdout, /health_checks\[0\]\.grpc_health_check: is not supported by sluice/);
  r = validate({ ...base, health_checks: [httpCheck({}, { expected_statuses: [{ start: 300, end: 200 }] })] });
  assert.match(r.stderr + r.stdout, /expected_statuses\[0\]: must be a range/);
  r = validate({ ...base, health_checks: [{ timeout: '1s', interval: '1s', unhealthy_threshold: 1, healthy_threshold: 1,
    tcp_health_check: { send: { text: 'zz' } } }] });
  assert.match(r.stderr + r.stdout, /tcp_health_check\.send\.text: must be hex text/);
  r = validate({ ...base, health_checks: [{ interval: '1s', unhealthy_threshold: 1, healthy_threshold: 1,
    tcp_health_check: {} }] });
  assert.match(r.stderr + r.stdout, /health_checks\[0\]\.timeout/);
});

test('an EDS update keeps each staying host\'s active health: a failed host stays failed, a new one starts unchecked', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hc-eds-'));
  let version = 0;
  const publish = (endpoints) => {
    const tmp = join(dir, '.eds.tmp');
    writeFileSync(tmp, JSON.stringify({
      version_info: String(++version),
      resources: [{
        '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
        cluster_name: 'pool',
        endpoints: [{ lb_endpoints: endpoints.map(({ port, status }) => ({
          endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
          ...(status ? { health_status: status } : {}),
        })) }],
      }],
    }));
    renameSync(tmp, join(dir, 'eds.json'));
  };
  // a passes, b fails; each is checked once, then waits out no_traffic_interval (30 s):
  // a session restarted by the update would check again at once.
  const a = await hcBackend('a');
  const b = await hcBackend('b', 'fail');
  const c = await hcBackend('c', 'hang');
  publish([{ port: a.port }, { port: b.port }]);
  const check = httpCheck({ no_traffic_interval: '30s', timeout: '0.05s' });
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'pool' } }]) })],
      clusters: [{ name: 'pool', type: 'EDS', connect_timeout: '1s', health_checks: [check],
        eds_cluster_config: { eds_config: { path_config_source: { path: join(dir, 'eds.json') } } } }],
    },
  }, { concurrency: 1 });
  try {
    await until(async () => (await stat(s, 'cluster.pool.health_check.attempt')) >= 2 && (await flags(s, a.port)) === 'healthy',
      'both checked');
    const checksOfB = b.checks.length;
    // Add c (it hangs: never checked healthy) and mark a DEGRADED by EDS.
    publish([{ port: a.port, status: 'DEGRADED' }, { port: b.port }, { port: c.port }]);
    await until(async () => (await flags(s, a.port)) === '/degraded_eds_health', 'the update applied');
    assert.equal(await flags(s, b.port), '/failed_active_hc', 'b keeps its failure (its session goes on)');
    assert.equal(b.checks.length, checksOfB, 'b waits out its interval: the session was not restarted');
    assert.equal(a.checks.length, 1);
    assert.match(await flags(s, c.port), /^\/failed_active_hc/, 'c starts failed until its first pass');
    assert.equal(await stat(s, 'cluster.pool.membership_total'), 3);
    assert.equal(await stat(s, 'cluster.pool.membership_degraded'), 1);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});
