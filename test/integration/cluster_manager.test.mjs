// The cluster manager (issue 12): a cluster update touches only that cluster.
// Load balancer state (round-robin position, least-request counts) of the
// other clusters survives it, and a host that stays across an endpoint update
// keeps its stats, its requests in flight and its idle pooled connections.
// One worker, so the load balancer the test watches is the only one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import http from 'node:http';
import { startSluice, httpListener, routes, staticCluster } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cm-'));
const backends = [];

before(async () => {
  for (const name of ['h0', 'h1', 'h2']) backends.push(await startBackend({ name }));
});

after(async () => {
  for (const b of backends) await b.close();
  rmSync(dir, { recursive: true, force: true });
});

let versions = 0;
// Writes `resources` as a DiscoveryResponse and moves it into place; returns its version_info.
function publish(file, resources) {
  const tmp = join(dir, `.${file}.tmp`);
  const version = `v${++versions}`;
  writeFileSync(tmp, JSON.stringify({ version_info: version, resources }));
  renameSync(tmp, join(dir, file));
  return version;
}

const typed = (type, resource) => ({ '@type': `type.googleapis.com/${type}`, ...resource });
const clusterResource = (c) => typed('envoy.config.cluster.v3.Cluster', c);

function assignment(name, ports) {
  return typed('envoy.config.endpoint.v3.ClusterLoadAssignment', {
    cluster_name: name,
    endpoints: [{
      lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } })),
    }],
  });
}

function edsCluster(name, file) {
  return {
    name, type: 'EDS', connect_timeout: '1s',
    eds_cluster_config: { eds_config: { path_config_source: { path: join(dir, file) } } },
  };
}

// A listener routing /<cluster>/... to <cluster> with the prefix stripped.
function listenerFor(names) {
  return httpListener({
    routeConfig: routes(names.map((n) => ({ match: { prefix: `/${n}/` }, route: { cluster: n, prefix_rewrite: '/' } }))),
  });
}

async function get(sluice, path, agent = false) {
  const res = await request({ port: sluice.port(), path, agent });
  assert.equal(res.status, 200, res.body);
  return report(res.body);
}

// The host statuses of `cluster` from /clusters?format=json, by backend port.
async function hostStatuses(sluice, cluster) {
  const res = await request({ port: Number(sluice.admin.split(':')[1]), path: '/clusters?format=json' });
  const status = JSON.parse(res.body).cluster_statuses.find((c) => c.name === cluster);
  const out = {};
  for (const h of status?.host_statuses ?? []) {
    const stats = Object.fromEntries(h.stats.map((s) => [s.name, Number(s.value ?? 0)]));
    out[h.address.socket_address.port_value] = { ...stats, weight: h.weight };
  }
  return out;
}

// Starts a request that the backend holds for a minute; resolves, once the
// backend has it, to {name, abort}.
async function holdRequest(sluice, path) {
  const arrived = Promise.race(backends.map((b) => once(b.events, 'request').then(() => b.name)));
  const req = http.get({ port: sluice.port(), path, agent: false });
  req.on('error', () => {});
  const name = await arrived;
  return { name, abort: () => req.destroy() };
}

test('an unrelated cluster update (CDS or EDS) leaves round-robin order where it was', async () => {
  const ports = backends.map((b) => b.port);
  publish('rr-cds.json', [
    clusterResource(staticCluster('rr', ports)),
    clusterResource(staticCluster('other', [ports[0]])),
    clusterResource(edsCluster('side', 'rr-eds.json')),
  ]);
  publish('rr-eds.json', [assignment('side', [ports[0]])]);
  const sluice = await startSluice({
    static_resources: { listeners: [listenerFor(['rr', 'other', 'side'])] },
    dynamic_resources: { cds_config: { path_config_source: { path: join(dir, 'rr-cds.json') } } },
  }, { concurrency: 1 });
  try {
    const order = ['h0', 'h1', 'h2'];
    let last = (await get(sluice, '/rr/')).name;
    // Four updates of other clusters, each followed by one request to rr: a
    // load balancer rebuilt at a random start would continue the rotation by
    // chance once in three times, so all four by chance once in 81.
    for (let i = 0; i < 4; i++) {
      if (i % 2 === 0) {
        const applied = sluice.waitForLog(/CDS update applied/);
        publish('rr-cds.json', [
          clusterResource(staticCluster('rr', ports)),
          clusterResource(staticCluster('other', [ports[0]], { connect_timeout: `${2 + i}s` })),
          clusterResource(edsCluster('side', 'rr-eds.json')),
        ]);
        await applied;
      } else {
        const applied = sluice.waitForLog(/EDS .* update applied/);
        publish('rr-eds.json', [assignment('side', i === 1 ? [ports[1]] : [ports[2]])]);
        await applied;
      }
      const next = (await get(sluice, '/rr/')).name;
      assert.equal(next, order[(order.indexOf(last) + 1) % 3], `after update ${i}`);
      last = next;
    }
    assert.equal(await sluice.stat('cluster_manager.cluster_modified'), 2);
    assert.equal(await sluice.stat('cluster.rr.membership_change'), 1); // its first hosts only
    assert.equal(await sluice.stat('cluster.side.membership_change'), 3);
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});

test('least-request counts of a cluster survive an update of another cluster', async () => {
  const ports = [backends[0].port, backends[1].port];
  const lr = staticCluster('lr', ports, { lb_policy: 'LEAST_REQUEST' });
  publish('lr-cds.json', [clusterResource(lr), clusterResource(staticCluster('other', [ports[0]]))]);
  const sluice = await startSluice({
    static_resources: { listeners: [listenerFor(['lr', 'other'])] },
    dynamic_resources: { cds_config: { path_config_source: { path: join(dir, 'lr-cds.json') } } },
  }, { concurrency: 1 });
  const held = await holdRequest(sluice, '/lr/delay/60000');
  try {
    const applied = sluice.waitForLog(/CDS update applied/);
    publish('lr-cds.json', [clusterResource(lr), clusterResource(staticCluster('other', [ports[1]]))]);
    await applied;
    // Two hosts, two choices: the busy host loses every draw while its
    // request is in flight. A count that restarted at 0 would tie and win
    // half of them.
    for (let i = 0; i < 8; i++) assert.notEqual((await get(sluice, '/lr/')).name, held.name, `request ${i}`);
  } finally {
    held.abort();
    assert.equal(await sluice.stop(), 0);
  }
});

test('a host that survives an endpoint update keeps its stats, requests in flight and pooled connections', async () => {
  const [h0, h1] = backends;
  publish('web-eds.json', [assignment('web', [h0.port])]);
  const sluice = await startSluice({
    static_resources: { listeners: [listenerFor(['web'])], clusters: [edsCluster('web', 'web-eds.json')] },
  }, { concurrency: 1 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let held;
  try {
    // The held request takes the first upstream connection; `first` opens
    // a second one, which then idles in the pool.
    held = await holdRequest(sluice, '/web/delay/60000');
    const first = await get(sluice, '/web/', agent);
    assert.equal(first.name, 'h0');
    let statuses = await hostStatuses(sluice, 'web');
    assert.equal(statuses[h0.port].rq_active, 1);
    assert.equal(statuses[h0.port].cx_total, 2);

    const applied = sluice.waitForLog(/EDS .* update applied/);
    publish('web-eds.json', [assignment('web', [h0.port, h1.port])]);
    await applied;
    statuses = await hostStatuses(sluice, 'web');
    assert.deepEqual(Object.keys(statuses).sort(), [String(h0.port), String(h1.port)].sort());
    assert.equal(statuses[h0.port].rq_active, 1, 'the request in flight is still counted');
    assert.equal(statuses[h0.port].rq_total, 2);
    assert.equal(statuses[h0.port].cx_total, 2);
    assert.equal(statuses[h1.port].rq_total, 0);

    // Round robin over both: the request that lands on h0 reuses the idle
    // pooled connection of the first request (same backend connection).
    const seen = [await get(sluice, '/web/', agent), await get(sluice, '/web/', agent)];
    const onH0 = seen.find((r) => r.name === 'h0');
    assert.ok(onH0 && seen.some((r) => r.name === 'h1'), JSON.stringify(seen.map((r) => r.name)));
    assert.equal(onH0.connection, first.connection, 'h0 kept its idle pooled connection');
    statuses = await hostStatuses(sluice, 'web');
    assert.equal(statuses[h0.port].cx_total, 2, 'no new connection to h0');
  } finally {
    held?.abort();
    agent.destroy();
    assert.equal(await sluice.stop(), 0);
  }
});

test('a rejected CDS update names the cluster, not its place in a merged list', async () => {
  publish('named-cds.json', [clusterResource(staticCluster('fine', [backends[0].port]))]);
  const sluice = await startSluice({
    static_resources: { listeners: [listenerFor(['fine'])], clusters: [staticCluster('static_one', [backends[1].port])] },
    dynamic_resources: { cds_config: { path_config_source: { path: join(dir, 'named-cds.json') } } },
  }, { concurrency: 1 });
  try {
    const rejected = sluice.waitForLog(/CDS update rejected, keeping the previous configuration: [^\n]*\n[^\n]*\n?.*cluster 'broken'\.load_assignment: a STATIC cluster needs at least one endpoint/);
    publish('named-cds.json', [
      clusterResource(staticCluster('fine', [backends[0].port])),
      clusterResource({ name: 'broken', type: 'STATIC', connect_timeout: '1s', load_assignment: { cluster_name: 'broken' } }),
    ]);
    await rejected;
    assert.doesNotMatch(sluice.stderr, /static_resources\.clusters\[1\]/);
    assert.equal((await get(sluice, '/fine/')).name, 'h0');
    assert.equal(await sluice.stat('cluster_manager.cds.update_rejected'), 1);
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});

test('an EDS cluster warms until its endpoints arrive, or until its initial_fetch_timeout', async () => {
  publish('warm-eds.json', [assignment('unrelated', [backends[0].port])]);
  const late = edsCluster('late', 'warm-eds.json');
  const never = edsCluster('never', 'warm-eds.json');
  never.eds_cluster_config.eds_config.initial_fetch_timeout = '0.3s';
  publish('warm-cds.json', [clusterResource(late), clusterResource(never)]);
  const sluice = await startSluice({
    static_resources: { listeners: [listenerFor(['late', 'never'])] },
    dynamic_resources: { cds_config: { path_config_source: { path: join(dir, 'warm-cds.json') } } },
  }, { concurrency: 1 });
  try {
    const gaveUp = /cluster 'never' got no endpoints within its initial_fetch_timeout/;
    const timedOut = gaveUp.test(sluice.stderr) ? Promise.resolve() : sluice.waitForLog(gaveUp);
    // Warming: not served at all (Envoy's 503 NC: no such cluster yet).
    assert.equal((await request({ port: sluice.port(), path: '/late/' })).status, 503);
    assert.equal(await sluice.stat('http.ingress.no_cluster'), 1);
    const dump = JSON.parse((await request({ port: Number(sluice.admin.split(':')[1]), path: '/config_dump' })).body);
    const clusters = dump.configs.find((c) => c['@type'].endsWith('ClustersConfigDump'));
    assert.ok(clusters.dynamic_warming_clusters.some((c) => c.cluster.name === 'late'), JSON.stringify(clusters));

    // The timeout serves `never` with no hosts (503 UH from the cluster itself).
    await timedOut;
    assert.equal(await sluice.stat('cluster_manager.warming_clusters'), 1);
    assert.equal((await request({ port: sluice.port(), path: '/never/' })).status, 503);
    assert.equal(await sluice.stat('cluster.never.upstream_cx_none_healthy'), 1);

    const warmed = sluice.waitForLog(/cluster 'late' warmed: its endpoints arrived/);
    const version = publish('warm-eds.json', [assignment('unrelated', [backends[0].port]), assignment('late', [backends[1].port])]);
    await warmed;
    // Per-resource versions: 'late' came with this update; 'unrelated' is unchanged and keeps its first.
    const eds = JSON.parse((await request({ port: Number(sluice.admin.split(':')[1]), path: '/config_dump?include_eds' })).body)
      .configs.find((c) => c['@type'].endsWith('EndpointsConfigDump')).dynamic_endpoint_configs;
    const byName = Object.fromEntries(eds.map((e) => [e.endpoint_config.cluster_name, e]));
    assert.equal(byName.late.version_info, version);
    assert.notEqual(byName.unrelated.version_info, version);
    assert.ok(byName.late.last_updated > byName.unrelated.last_updated, JSON.stringify(eds));
    assert.equal((await get(sluice, '/late/')).name, 'h1');
    assert.equal(await sluice.stat('cluster_manager.warming_clusters'), 0);
    assert.equal(await sluice.stat('cluster_manager.active_clusters'), 2);
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});
