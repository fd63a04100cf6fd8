// Outlier detection end to end: the real binary against backends whose
// answers the test drives (5xx, reset, refuse, hang). Each rule is checked at
// its edge (the N-th failure ejects, not the N-1-th), with its stats and the
// /clusters flags; ejected hosts come back after their time, longer each
// time. Waits poll /clusters or /stats (bounded); intervals are short.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { request } from './lib/http.mjs';
import { modeBackend } from './lib/backend.mjs';

const servers = [];
after(async () => {
  for (const s of servers) s.closeAllConnections?.(), s.close();
});

async function backend(name, mode = 'ok') {
  const b = await modeBackend(name, mode);
  servers.push(b.server);
  return b;
}

async function refusedPort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

const adminPort = (s) => Number(s.admin.split(':')[1]);
const clustersText = async (s) => (await request({ port: adminPort(s), path: '/clusters' })).body;
async function hostLine(s, port, field) {
  const line = (await clustersText(s)).split('\n').find((l) => l.startsWith(`pool::127.0.0.1:${port}::${field}::`));
  return line?.split('::')[3];
}
const flags = (s, port) => hostLine(s, port, 'health_flags');
const ejected = async (s, port) => (await flags(s, port)).includes('/failed_outlier_check');
const stat = (s, name) => s.stat(`cluster.pool.outlier_detection.${name}`).then((v) => v ?? 0);

async function until(check, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function withSluice(ports, clusterExtra, body, { route = {} } = {}) {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'pool', ...route } }]) })],
      clusters: [staticCluster('pool', ports, clusterExtra)],
    },
  }, { concurrency: 2 });
  try {
    await body(s);
  } finally {
    assert.equal(await s.stop(), 0);
  }
}

const get = (s, agent) => request({ port: s.port(), path: '/', agent });

// Sends requests one at a time until `b` has answered `n` more of its current mode.
async function failuresFrom(s, b, n, agent) {
  const start = b.answered[b.mode] ?? 0;
  for (let i = 0; (b.answered[b.mode] ?? 0) < start + n; ++i) {
    if (i > 20 * n) throw new Error(`${b.name} answered ${b.answered[b.mode] - start} of ${n}`);
    await get(s, agent);
  }
}

test('consecutive_5xx ejects at the N-th 5xx in a row, and the host returns after base_ejection_time, then twice as long', async () => {
  const [a, b] = await Promise.all([backend('a', 500), backend('b')]);
  const outlier_detection = {
    consecutive_5xx: 3, interval: '0.25s', base_ejection_time: '0.6s', max_ejection_percent: 100,
  };
  await withSluice([a.port, b.port], { outlier_detection }, async (s) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await failuresFrom(s, a, 2, agent);
    assert.equal(await flags(s, a.port), 'healthy', 'two 5xx: not yet');
    await failuresFrom(s, a, 1, agent);
    const ejectedAt = Date.now();
    await until(() => ejected(s, a.port), 'a ejected', 2000);
    assert.equal(await stat(s, 'ejections_enforced_consecutive_5xx'), 1);
    assert.equal(await stat(s, 'ejections_detected_consecutive_5xx'), 1);
    assert.equal(await stat(s, 'ejections_enforced_total'), 1);
    assert.equal(await stat(s, 'ejections_active'), 1);
    assert.equal(await s.stat('cluster.pool.membership_healthy'), 1);
    const json = JSON.parse((await request({ port: adminPort(s), path: '/clusters?format=json' })).body);
    const hostsOf = json.cluster_statuses.find((c) => c.name === 'pool').host_statuses;
    const status = (port) => hostsOf.find((h) => h.address.socket_address.port_value === port).health_status;
    assert.equal(status(a.port).failed_outlier_check, true);
    assert.equal(status(b.port).failed_outlier_check, undefined);
    // Ejected: every request goes to b.
    for (let i = 0; i < 6; ++i) assert.equal((await get(s, agent)).headers['x-backend'], 'b');
    await until(async () => !(await ejected(s, a.port)), 'a back', 5000);
    const first = Date.now() - ejectedAt;
    assert.ok(first >= 550, `back after ${first} ms`);
    assert.equal(await stat(s, 'ejections_active'), 0);
    // Still failing: ejected again at the third 5xx, now for twice base_ejection_time.
    await failuresFrom(s, a, 3, agent);
    const again = Date.now();
    await until(() => ejected(s, a.port), 'a ejected again', 2000);
    await until(async () => !(await ejected(s, a.port)), 'a back again', 5000);
    const second = Date.now() - again;
    assert.ok(second >= 1150, `second ejection lasted ${second} ms (base 600 ms x 2)`);
    assert.equal(await stat(s, 'ejections_enforced_consecutive_5xx'), 2);
    agent.destroy();
  });
});

test('max_ejection_percent caps ejections and counts ejections_overflow', async () => {
  const bs = await Promise.all([backend('a', 500), backend('b', 500), backend('c', 500)]);
  // 0% and 33% ejected are below 50%: two ejections; 66% is not: the third overflows.
  const outlier_detection = { consecutive_5xx: 2, interval: '10s', base_ejection_time: '30s', max_ejection_percent: 50 };
  await withSluice(bs.map((b) => b.port), { outlier_detection }, async (s) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await until(async () => {
      await get(s, agent);
      return (await stat(s, 'ejections_overflow')) >= 1;
    }, 'an overflow');
    assert.equal(await stat(s, 'ejections_active'), 2);
    assert.equal(await stat(s, 'ejections_enforced_total'), 2);
    const states = await Promise.all(bs.map((b) => ejected(s, b.port)));
    assert.equal(states.filter(Boolean).length, 2);
    agent.destroy();
  });
});

test('success_rate ejects the host far below the others among success_rate_minimum_hosts, and /clusters shows the rates', async () => {
  const bs = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n, i) => backend(n, i === 0 ? 500 : 'ok')));
  const outlier_detection = {
    interval: '3s', base_ejection_time: '30s', max_ejection_percent: 100, enforcing_consecutive_5xx: 0,
    success_rate_minimum_hosts: 5, success_rate_request_volume: 10,
  };
  await withSluice(bs.map((b) => b.port), { outlier_detection }, async (s) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    // Consecutive 5xx are detected, not enforced (enforcing_consecutive_5xx: 0).
    await until(async () => {
      await Promise.all([0, 1, 2, 3, 4].map(() => get(s, agent)));
      return (await stat(s, 'ejections_enforced_success_rate')) >= 1;
    }, 'a success-rate ejection', 10000);
    assert.ok(await ejected(s, bs[0].port));
    for (const b of bs.slice(1)) assert.equal(await flags(s, b.port), 'healthy');
    assert.equal(await stat(s, 'ejections_detected_success_rate'), 1);
    assert.ok((await stat(s, 'ejections_detected_consecutive_5xx')) >= 1);
    assert.equal(await stat(s, 'ejections_enforced_consecutive_5xx'), 0);
    assert.equal(await hostLine(s, bs[0].port, 'success_rate'), '0');
    assert.equal(await hostLine(s, bs[1].port, 'success_rate'), '100');
    assert.match(await clustersText(s), /^pool::outlier::success_rate_average::80$/m);
    agent.destroy();
  });
});

test('failure_percentage ejects a host failing at least the threshold when enforced', async () => {
  const bs = await Promise.all([backend('a', 503), backend('b'), backend('c')]);
  const outlier_detection = {
    interval: '0.5s', base_ejection_time: '30s', max_ejection_percent: 100, enforcing_consecutive_5xx: 0,
    success_rate_minimum_hosts: 100, enforcing_failure_percentage: 100, failure_percentage_threshold: 60,
    failure_percentage_minimum_hosts: 3, failure_percentage_request_volume: 5,
  };
  await withSluice(bs.map((b) => b.port), { outlier_detection }, async (s) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
    await until(async () => {
      await Promise.all([0, 1, 2].map(() => get(s, agent)));
      return (await stat(s, 'ejections_enforced_failure_percentage')) >= 1;
    }, 'a failure-percentage ejection', 10000);
    assert.ok(await ejected(s, bs[0].port));
    assert.equal(await flags(s, bs[1].port), 'healthy');
    assert.equal(await stat(s, 'ejections_enforced_success_rate'), 0);
    agent.destroy();
  });
});

test('a backend that resets counts as a 5xx; a hanging one (route timeout, 504) as a gateway failure', async () => {
  const [a, b] = await Promise.all([backend('a', 'reset'), backend('b')]);
  await withSluice([a.port, b.port], { outlier_detection: { consecutive_5xx: 2, max_ejection_percent: 100 } }, async (s) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await failuresFrom(s, a, 1, agent);
    assert.equal(await flags(s, a.port), 'healthy');
    await failuresFrom(s, a, 1, agent);
    await until(() => ejected(s, a.port), 'a ejected after two resets');
    assert.equal(await stat(s, 'ejections_enforced_consecutive_5xx'), 1);
    agent.destroy();
  });
  const [h, ok] = await Promise.all([backend('h', 'hang'), backend('ok')]);
  const outlier_detection = {
    consecutive_gateway_failure: 2, enforcing_consecutive_gateway_failure: 100, enforcing_consecutive_5xx: 0,
    max_ejection_percent: 100,
  };
  await withSluice([h.port, ok.port], { outlier_detection }, async (s) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await failuresFrom(s, h, 2, agent);
    await until(() => ejected(s, h.port), 'the hanging host ejected');
    assert.equal(await stat(s, 'ejections_enforced_consecutive_gateway_failure'), 1);
    agent.destroy();
  }, { route: { timeout: '0.2s' } });
});

test('split_external_local_origin_errors: refused connections eject by consecutive_local_origin_failure, 5xx do not count there', async () => {
  const [refused, b] = [await refusedPort(), await backend('b')];
  const outlier_detection = {
    split_external_local_origin_errors: true, consecutive_local_origin_failure: 2, consecutive_5xx: 1000,
    max_ejection_percent: 100,
  };
  await withSluice([refused, b.port], { outlier_detection }, async (s) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let refusals = 0;
    while (refusals < 2) {
      const res = await get(s, agent);
      if (res.status === 503) refusals += 1;
      if (refusals === 1) assert.equal(await flags(s, refused), 'healthy');
    }
    await until(() => ejected(s, refused), 'the refusing host ejected');
    assert.equal(await stat(s, 'ejections_enforced_consecutive_local_origin_failure'), 1);
    assert.equal(await stat(s, 'ejections_detected_consecutive_5xx'), 0);
    agent.destroy();
  });
});

test('with active health checking, a passing check returns an ejected host at once (successful_active_health_check_uneject_host)', async () => {
  // Traffic gets 500, /healthz gets 200: ejected by traffic, returned by the next check.
  const a = await backend('a', 500);
  const b = await backend('b');
  const health_checks = [{
    timeout: '1s', interval: '0.05s', no_traffic_interval: '0.05s', unhealthy_threshold: 1, healthy_threshold: 1,
    http_health_check: { path: '/healthz', expected_statuses: [{ start: 200, end: 600 }] },
  }];
  const outlier_detection = { consecutive_5xx: 2, base_ejection_time: '300s', max_ejection_percent: 100 };
  await withSluice([a.port, b.port], { health_checks, outlier_detection }, async (s) => {
    await until(async () => (await flags(s, a.port)) === 'healthy' && (await flags(s, b.port)) === 'healthy', 'checked');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await failuresFrom(s, a, 2, agent);
    await until(async () => (await stat(s, 'ejections_enforced_consecutive_5xx')) === 1, 'an ejection');
    // Back long before base_ejection_time (300 s), by a passing check.
    await until(async () => (await flags(s, a.port)) === 'healthy' && (await stat(s, 'ejections_active')) === 0,
      'a returned by its health check');
    agent.destroy();
  });
});
