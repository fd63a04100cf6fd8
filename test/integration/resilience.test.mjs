// The resilient-upstream features together (issue 16, point 6), against the
// real binary under load: two of four hosts (one zone's) start failing; retries
// (previous_hosts) hide their errors from the client and outlier detection
// ejects them, so no client request fails while healthy capacity remains.
// Then a third fails: below healthy_panic_threshold the cluster routes over
// every host (panic), and the retries still find the healthy one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { request } from './lib/http.mjs';
import { startLoad } from './lib/load.mjs';
import { modeBackend } from './lib/backend.mjs';

const servers = [];
after(() => {
  for (const s of servers) s.closeAllConnections?.(), s.close();
});

async function backend(name) {
  const b = await modeBackend(name);
  servers.push(b.server);
  return b;
}

async function until(check, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('one zone failing under load: retries and outlier ejection keep the error rate at zero; most hosts down: panic routing', { timeout: 30_000 }, async () => {
  const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map(backend));
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes([{
          match: { prefix: '/' },
          route: {
            cluster: 'pool',
            retry_policy: {
              retry_on: '5xx',
              num_retries: 3,
              retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
              host_selection_retry_max_attempts: 5,
            },
          },
        }]),
      })],
      clusters: [staticCluster('pool', [a.port, b.port, c.port, d.port], {
        outlier_detection: { consecutive_5xx: 3, base_ejection_time: '30s', max_ejection_percent: 100, interval: '30s' },
        circuit_breakers: { thresholds: [{ max_retries: 1000 }] },
      })],
    },
  }, { concurrency: 2 });
  const stat = async (name) => (await s.stat(`cluster.pool.${name}`)) ?? 0;
  try {
    const load = startLoad(() => request({ port: s.port('ingress'), path: '/' }));
    await until(() => load.count('c') > 20 && load.count('d') > 20, 'traffic on every host');
    // Zone 2 (c and d) fails.
    c.mode = 503;
    d.mode = 503;
    await until(async () => (await stat('outlier_detection.ejections_enforced_consecutive_5xx')) >= 2, 'c and d ejected');
    const served = { a: load.count('a'), b: load.count('b') };
    await until(() => load.count('a') > served.a + 100 && load.count('b') > served.b + 100, 'traffic after the ejections');
    assert.equal(load.seen.failed, 0, 'no client request failed');
    assert.ok((await stat('upstream_rq_retry')) > 0, 'the 503s were retried');
    assert.ok((await stat('upstream_rq_retry_success')) > 0);
    assert.equal(await stat('lb_healthy_panic'), 0, 'half the hosts healthy: not below the 50% threshold');
    const cBefore = load.count('c');
    // A third host fails: 1 of 4 healthy (25% < 50%): panic, every host takes traffic again.
    a.mode = 503;
    await until(async () => (await stat('outlier_detection.ejections_enforced_consecutive_5xx')) >= 3, 'a ejected');
    await until(async () => (await stat('lb_healthy_panic')) > 50, 'panic routing');
    const seen = await load.stop();
    assert.equal(seen.failed, 0, 'retries found the healthy host even in panic');
    assert.equal(load.count('c'), cBefore, 'c answered only 503s (never counted as served)');
    assert.ok((await stat('upstream_rq_retry_limit_exceeded')) === 0);
  } finally {
    await s.stop();
  }
});
