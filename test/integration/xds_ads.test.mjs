// ADS (state of the world) against the real binary: sluice's only static
// cluster is the control plane's (lib/ads_server.mjs, a scripted gRPC
// server); clusters, endpoints and listeners come over one stream. The tests
// share one sluice and run in order, each building on the last state.
import { test, before, after } from 'node:test';
import net from 'node:net';
import http from 'node:http';
import assert from 'node:assert/strict';
import { startSluice, httpListener, routes, staticCluster } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { AdsServer, TYPE, any } from './lib/ads_server.mjs';
import { startLoad } from './lib/load.mjs';

let ads;
let sluice;
let a;
let b;

function edsCluster(name, extra = {}) {
  return { name, any: any(TYPE.cluster, { name, type: 'EDS', connect_timeout: { seconds: 1 }, eds_cluster_config: { eds_config: { ads: {}, ...extra } } }) };
}
function assignment(name, ports) {
  return {
    name,
    any: any(TYPE.endpoint, {
      cluster_name: name,
      endpoints: [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } })) }],
    }),
  };
}
function listener(name, cluster) {
  const l = httpListener({ name, routeConfig: routes([{ match: { prefix: '/' }, route: { cluster } }]) });
  return { name, any: any(TYPE.listener, l) };
}

async function until(check) {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setImmediate(r));
  }
}
async function stat(name) { return sluice.stat(name); }
async function get(path = '/') {
  return request({ port: sluice.port('ingress'), path });
}

before(async () => {
  a = await startBackend({ name: 'a' });
  b = await startBackend({ name: 'b' });
  ads = new AdsServer();
  await ads.start();
  ads.push(TYPE.cluster, 'c1', [edsCluster('web'), edsCluster('other')]);
  ads.push(TYPE.endpoint, 'e1', [assignment('web', [a.port]), assignment('other', [a.port])]);
  ads.push(TYPE.listener, 'l1', [listener('ingress', 'web')]);
  sluice = await startSluice({
    node: { id: 'edge-1', cluster: 'edge', locality: { zone: 'z1' } },
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', set_node_on_first_message_only: true, grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
      cds_config: { ads: {}, resource_api_version: 'V3' },
      lds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: { clusters: [staticCluster('xds', [ads.port], { http2_protocol_options: {} })] },
  }, { args: ['-l', 'debug'] });
  await until(async () => (await sluice.refreshListeners()).some((l) => l.name === 'ingress'));
});

after(async () => {
  await sluice?.stop();
  ads?.stop();
  await a?.close();
  await b?.close();
});

test('CDS, EDS and LDS over ADS: traffic flows to the pushed endpoints', { timeout: 20_000 }, async () => {
  const res = await get();
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-backend'], 'a');
  assert.equal(await stat('control_plane.connected_state'), 1);
  assert.equal(await stat('cluster_manager.cds.update_success'), 1);
  assert.equal(await stat('listener_manager.lds.update_success'), 1);
  // A debug line per request and per response of the stream.
  assert.match(sluice.stderr, /ads: sending type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster version_info ''/);
  assert.match(sluice.stderr, /ads: received type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster version_info 'c1'/);
});

test('the node goes on the first request of the stream only (set_node_on_first_message_only)', { timeout: 20_000 }, () => {
  const first = ads.requests[0];
  assert.equal(first.node?.id, 'edge-1');
  assert.equal(first.node.cluster, 'edge');
  assert.equal(first.node.locality.zone, 'z1');
  assert.equal(first.node.user_agent_name, 'sluice');
  assert.ok(ads.requests.slice(1).every((r) => !r.node), 'no node after the first request');
});

test('wildcard CDS and LDS, EDS by cluster name; ACKs carry the version and nonce', { timeout: 20_000 }, async () => {
  const cds = ads.requests.filter((r) => r.type_url === TYPE.cluster);
  assert.deepEqual(cds[0].resource_names ?? [], []);
  assert.equal(cds[0].version_info ?? '', '');
  const ack = await ads.waitForRequest((r) => r.type_url === TYPE.cluster && r.version_info === 'c1');
  assert.ok(ack.response_nonce);
  assert.equal(ack.error_detail, undefined);
  const eds = await ads.waitForRequest((r) => r.type_url === TYPE.endpoint && r.version_info === 'e1');
  assert.deepEqual([...eds.resource_names].sort(), ['other', 'web']);
  const lds = ads.requests.find((r) => r.type_url === TYPE.listener);
  assert.deepEqual(lds.resource_names ?? [], []);
  // LDS is requested only once the first CDS response has been sent (clusters first).
  const firstCds = ads.responses.find((r) => r.type_url === TYPE.cluster);
  assert.ok(ads.requests.indexOf(lds) > firstCds.after, 'LDS requested in reply to the first CDS response, not with it');
});

test('a NACK names the field path; the previous clusters keep serving', { timeout: 20_000 }, async () => {
  const from = ads.requests.length;
  const bad = { name: 'bad', any: any(TYPE.cluster, { name: 'bad', connect_timeout: { seconds: -1 } }) };
  const nonce = ads.push(TYPE.cluster, 'c-bad', [edsCluster('web'), edsCluster('other'), bad]);
  const nack = await ads.waitForRequest((r) => r.type_url === TYPE.cluster && r.response_nonce === nonce, from);
  assert.equal(nack.version_info, 'c1');
  assert.ok(nack.error_detail, 'error_detail is set');
  assert.match(nack.error_detail.message, /cluster 'bad'\.connect_timeout/);
  assert.equal(await stat('cluster_manager.cds.update_rejected'), 1);
  const res = await get();
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-backend'], 'a');
});

test('a rejected listener is in /config_dump with its error_state until an update of it is accepted', { timeout: 20_000 }, async () => {
  const dumpListeners = async () => {
    const dump = JSON.parse((await request({ port: Number(sluice.admin.split(':')[1]), path: '/config_dump' })).body);
    const listeners = dump.configs.find((c) => c['@type'].endsWith('ListenersConfigDump'));
    return Object.fromEntries((listeners.dynamic_listeners ?? []).map((l) => [l.name, l]));
  };
  let from = ads.requests.length;
  const broken = httpListener({ name: 'broken', routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) });
  broken.address.socket_address.port_value = 70000;
  const nonce = ads.push(TYPE.listener, 'l-bad', [listener('ingress', 'web'), { name: 'broken', any: any(TYPE.listener, broken) }]);
  const nack = await ads.waitForRequest((r) => r.type_url === TYPE.listener && r.response_nonce === nonce, from);
  assert.equal(nack.version_info, 'l1');
  let listeners = await dumpListeners();
  assert.ok(listeners.ingress.active_state, 'ingress still serves');
  assert.equal(listeners.ingress.error_state, undefined, 'the error names broken only');
  const error = listeners.broken?.error_state;
  assert.ok(error, 'broken has an error_state');
  assert.match(error.details, /listener 'broken'\.address\.socket_address\.port_value/);
  assert.equal(error.failed_configuration.name, 'broken');
  assert.ok(Date.parse(error.last_update_attempt) > Date.now() - 60_000);
  assert.equal(listeners.broken.active_state, undefined, 'never accepted: no active state');
  from = ads.requests.length;
  ads.push(TYPE.listener, 'l1', [listener('ingress', 'web')]);
  await ads.waitForRequest((r) => r.type_url === TYPE.listener && r.response_nonce && !r.error_detail, from);
  listeners = await dumpListeners();
  assert.deepEqual(Object.keys(listeners), ['ingress'], 'the accepted update clears the error_state');
});

test('every CDS update re-requests EDS, even with the same names', { timeout: 20_000 }, async () => {
  const from = ads.requests.length;
  ads.push(TYPE.cluster, 'c2', [edsCluster('web'), edsCluster('other')]);
  await ads.waitForRequest((r) => r.type_url === TYPE.cluster && r.version_info === 'c2', from);
  const eds = await ads.waitForRequest((r) => r.type_url === TYPE.endpoint, from);
  assert.deepEqual([...eds.resource_names].sort(), ['other', 'web']);
  assert.equal(eds.version_info, 'e1');
});

test('EDS is counted per cluster: cluster.<name>.update_*, update_no_rebuild, update_time, version', { timeout: 20_000 }, async () => {
  assert.ok((await stat('cluster.web.update_success')) >= 1);
  assert.ok((await stat('cluster.web.update_time')) > Date.now() - 600_000, 'update_time is a recent epoch in ms');
  const version = await stat('cluster.web.version');
  assert.notEqual(version, 0);
  const [attempt, noRebuild] = [await stat('cluster.web.update_attempt'), await stat('cluster.web.update_no_rebuild')];
  // The same endpoints under a new version: applied, no rebuild, a new version gauge.
  let from = ads.requests.length;
  ads.push(TYPE.endpoint, 'e1-same', [assignment('web', [a.port]), assignment('other', [a.port])]);
  await ads.waitForRequest((r) => r.type_url === TYPE.endpoint && r.version_info === 'e1-same', from);
  assert.equal(await stat('cluster.web.update_attempt'), attempt + 1);
  assert.equal(await stat('cluster.web.update_no_rebuild'), noRebuild + 1);
  assert.notEqual(await stat('cluster.web.version'), version);
  // A rejected EDS response counts against every cluster it would feed, and changes nothing.
  from = ads.requests.length;
  const bad = { name: 'web', any: any(TYPE.endpoint, { cluster_name: 'web', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 70000 } } } }] }] }) };
  const nonce = ads.push(TYPE.endpoint, 'e-bad', [bad, assignment('other', [a.port])]);
  const nack = await ads.waitForRequest((r) => r.type_url === TYPE.endpoint && r.response_nonce === nonce, from);
  assert.ok(nack.error_detail);
  assert.equal(await stat('cluster.web.update_rejected'), 1);
  assert.equal(await stat('cluster.other.update_rejected'), 1);
  assert.equal(await stat('cluster.web.update_success'), (await stat('cluster.web.update_attempt')) - 1);
  ads.push(TYPE.endpoint, 'e1', [assignment('web', [a.port]), assignment('other', [a.port])]);
  await ads.waitForRequest((r) => r.type_url === TYPE.endpoint && r.version_info === 'e1', from);
});

// sluice's own histogram: from the response read off the stream to the last
// worker applying the new hosts. Recorded once per EDS update that changes
// hosts; an update that changes nothing has nothing to time.
test('an EDS update is timed to the last worker: cluster_manager.eds_propagation_us', { timeout: 20_000 }, async () => {
  const admin = Number(sluice.admin.split(':')[1]);
  const propagation = async () => {
    const res = await request({ port: admin, path: '/stats?format=json&filter=eds_propagation&histogram_buckets=detailed' });
    assert.equal(res.status, 200);
    const entry = JSON.parse(res.body).stats.find((s) => s.histograms);
    const h = entry?.histograms.details.find((d) => d.name === 'cluster_manager.eds_propagation_us');
    return h ? h.totals : [];
  };
  const count = (totals) => totals.reduce((n, t) => n + t.count, 0);
  const before = count(await propagation());
  assert.ok(before >= 1, 'the first assignments were timed');
  let from = ads.requests.length;
  ads.push(TYPE.endpoint, 'e-timed', [assignment('web', [a.port]), assignment('other', [b.port])]);
  await ads.waitForRequest((r) => r.type_url === TYPE.endpoint && r.version_info === 'e-timed', from);
  await until(async () => count(await propagation()) === before + 1);
  const totals = await propagation();
  assert.ok(totals.every((t) => t.lower_bound < 10_000_000 && t.width >= 1), JSON.stringify(totals));
  // The same hosts again: no host set changes, nothing published, nothing timed.
  from = ads.requests.length;
  ads.push(TYPE.endpoint, 'e-timed-same', [assignment('web', [a.port]), assignment('other', [b.port])]);
  await ads.waitForRequest((r) => r.type_url === TYPE.endpoint && r.version_info === 'e-timed-same', from);
  from = ads.requests.length;
  ads.push(TYPE.endpoint, 'e1', [assignment('web', [a.port]), assignment('other', [a.port])]);
  await ads.waitForRequest((r) => r.type_url === TYPE.endpoint && r.version_info === 'e1', from);
  await until(async () => count(await propagation()) === before + 2);
  // Only the detailed JSON form is rendered; the other modes are refused by name.
  const refused = await request({ port: admin, path: '/stats?format=json&histogram_buckets=cumulative' });
  assert.equal(refused.status, 400);
  assert.match(refused.body, /histogram_buckets=detailed/);
});

test('an endpoint change under load: no failed request', { timeout: 20_000 }, async (t) => {
  let firstB = 0;
  const load = startLoad(() => get(), {
    onResponse: (res) => { if (res.headers['x-backend'] === 'b' && !firstB) firstB = performance.now(); },
  });
  await until(() => load.count('a') > 50);
  const pushed = performance.now();
  ads.push(TYPE.endpoint, 'e2', [assignment('web', [b.port]), assignment('other', [a.port])]);
  await until(() => load.count('b') > 50);
  t.diagnostic(`push to first response from the new endpoint: ${(firstB - pushed).toFixed(1)} ms`);
  assert.equal((await load.stop()).failed, 0);
});

test('a cluster added, a listener moved to it and back, the cluster removed, under load: no failed request', { timeout: 20_000 }, async () => {
  // New connections and kept-alive ones: a listener change must not fail a request on either.
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const load = startLoad((i) => request({ port: sluice.port('ingress'), path: '/', agent: i < 2 ? false : keepAlive }));
  const seen = load.seen;
  await until(() => load.count('b') > 50);  // web is on b since the endpoint change
  // Envoy's safe order, as a control plane sends it: the cluster first, the listener that routes to it
  // next, the removal only once no listener routes to it.
  ads.push(TYPE.endpoint, 'e3', [assignment('web', [b.port]), assignment('other', [a.port]), assignment('web2', [a.port])]);
  let from = ads.requests.length;
  ads.push(TYPE.cluster, 'c-x1', [edsCluster('web'), edsCluster('other'), edsCluster('web2')]);
  await ads.waitForRequest((r) => r.type_url === TYPE.endpoint && r.version_info === 'e3' && r.resource_names.includes('web2'), from);
  from = ads.requests.length;
  ads.push(TYPE.listener, 'l-x1', [listener('ingress', 'web2')]);
  await ads.waitForRequest((r) => r.type_url === TYPE.listener && r.version_info === 'l-x1', from);
  const onA = load.count('a');
  await until(() => load.count('a') > onA + 50);
  from = ads.requests.length;
  ads.push(TYPE.listener, 'l-x2', [listener('ingress', 'web')]);
  await ads.waitForRequest((r) => r.type_url === TYPE.listener && r.version_info === 'l-x2', from);
  const onB = load.count('b');
  await until(() => load.count('b') > onB + 50);
  from = ads.requests.length;
  ads.push(TYPE.cluster, 'c-x2', [edsCluster('web'), edsCluster('other')]);
  await ads.waitForRequest((r) => r.type_url === TYPE.cluster && r.version_info === 'c-x2', from);
  const after = load.count('b');
  await until(() => load.count('b') > after + 50);
  await load.stop();
  keepAlive.destroy();
  assert.equal(seen.failed, 0);
});

test('state of the world: a cluster missing from a CDS response is removed', { timeout: 20_000 }, async () => {
  const removed = await stat('cluster_manager.cluster_removed') ?? 0;
  ads.push(TYPE.cluster, 'c3', [edsCluster('web')]);
  await until(async () => (await stat('cluster_manager.cluster_removed')) === removed + 1);
  const clusters = await request({ port: Number(sluice.admin.split(':')[1]), path: '/clusters' });
  assert.doesNotMatch(clusters.body, /^other::/m);
  assert.match(clusters.body, /^web::/m);
  // Its assignment went with it (nothing else uses it).
  const dump = JSON.parse((await request({ port: Number(sluice.admin.split(':')[1]), path: '/config_dump?include_eds' })).body);
  const endpoints = dump.configs.find((c) => c['@type'].endsWith('EndpointsConfigDump'));
  assert.deepEqual(endpoints.dynamic_endpoint_configs.map((e) => e.endpoint_config.cluster_name), ['web']);
});

test('initial_fetch_timeout ends the warming of an EDS cluster the server never answers', { timeout: 20_000 }, async () => {
  ads.push(TYPE.cluster, 'c4', [edsCluster('web'), edsCluster('cold', { initial_fetch_timeout: { nanos: 300_000_000 } })]);
  await sluice.waitForLog(/cluster 'cold' got no endpoints within its initial_fetch_timeout/);
  assert.equal(await stat('cluster_manager.warming_clusters'), 0);
  // /config_dump: each cluster with the version that last changed it.
  const dump = JSON.parse((await request({ port: Number(sluice.admin.split(':')[1]), path: '/config_dump?resource=dynamic_active_clusters' })).body);
  const versions = Object.fromEntries(dump.configs.map((c) => [c.cluster.name, c.version_info]));
  assert.deepEqual(versions, { web: 'c1', cold: 'c4' });
});

test('the control plane dies: traffic continues, connected_state 0; it returns: the client resyncs, no request fails', { timeout: 20_000 }, async () => {
  const load = startLoad(() => get(), { key: (res) => (res.headers['x-backend'] === 'b' ? 'b' : 'other') });
  const seen = load.seen;
  const port = ads.port;
  ads.stop();
  await until(async () => (await stat('control_plane.connected_state')) === 0);
  const down = load.count('b');
  await until(() => load.count('b') > down + 50);  // served on the last config while the control plane is away
  const from = ads.requests.length;
  await ads.start(port);
  const cds = await ads.waitForRequest((r) => r.type_url === TYPE.cluster, from);
  assert.equal(cds.version_info, 'c4');
  assert.equal(cds.response_nonce ?? '', '');
  assert.equal(cds.node?.id, 'edge-1', 'the node again on the first request of the new stream');
  const eds = await ads.waitForRequest((r) => r.type_url === TYPE.endpoint, from);
  assert.equal(eds.version_info, 'e3');
  // Resynced: the whole state again, ACKed, while the traffic flows.
  await ads.waitForRequest((r) => r.type_url === TYPE.listener && r.response_nonce, from);
  await until(async () => (await stat('control_plane.connected_state')) === 1);
  const up = load.count('b');
  await until(() => load.count('b') > up + 50);
  await load.stop();
  assert.ok((await stat('cluster_manager.cds.update_failure')) >= 1);
  assert.deepEqual({ failed: seen.failed, other: load.count('other') }, { failed: 0, other: 0 });
});

test('the endpoints of the ADS cluster are tried in turn: a dead first one, the server second', { timeout: 20_000 }, async () => {
  const dead = net.createServer();
  await new Promise((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = dead.address().port;
  await new Promise((r) => dead.close(r));
  const second = new AdsServer();
  await second.start();
  second.push(TYPE.cluster, 'only', [edsCluster('web')]);
  const s = await startSluice({
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
      cds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: { clusters: [staticCluster('xds', [deadPort, second.port], { connect_timeout: '0.2s' })] },
  });
  try {
    await second.waitForRequest((r) => r.type_url === TYPE.cluster && r.version_info === 'only');
    assert.equal(await s.stat('control_plane.connected_state'), 1);
    assert.ok((await s.stat('cluster_manager.cds.update_failure')) >= 1, 'the dead endpoint was tried first');
  } finally {
    await s.stop();
    second.stop();
  }
});

// RDS over ADS: a listener 'edge' whose connection manager names route config 'r1'.
function rdsListenerObject(name, routeConfigName) {
  const l = httpListener({ name, hcm: { rds: { route_config_name: routeConfigName, config_source: { ads: {}, resource_api_version: 'V3' } } } });
  delete l.filter_chains[0].filters[0].typed_config.route_config;
  return l;
}
function rdsListener(name, routeConfigName) {
  return { name, any: any(TYPE.listener, rdsListenerObject(name, routeConfigName)) };
}
function routeConfig(name, tag, match = { prefix: '/' }) {
  return {
    name,
    any: any(TYPE.route, {
      name,
      response_headers_to_add: [{ header: { key: 'x-routes', value: tag } }],
      ...routes([{ match, route: { cluster: 'web' } }]),
    }),
  };
}
async function getEdge() {
  return request({ port: sluice.port('edge'), path: '/' });
}

test('RDS over ADS: the listener warms until its route config arrives, requested by name after LDS', { timeout: 20_000 }, async () => {
  const from = ads.requests.length;
  ads.push(TYPE.listener, 'l2', [listener('ingress', 'web'), rdsListener('edge', 'r1')]);
  const rds = await ads.waitForRequest((r) => r.type_url === TYPE.route, from);
  assert.deepEqual([...rds.resource_names], ['r1']);
  const ldsSent = ads.responses.find((r) => r.type_url === TYPE.listener && r.version_info === 'l2');
  assert.ok(ads.requests.indexOf(rds) >= ldsSent.after, 'RDS requested in reply to the LDS response');
  await until(async () => (await stat('listener_manager.total_listeners_warming')) === 1);
  assert.ok(!(await sluice.refreshListeners()).some((l) => l.name === 'edge'), 'a warming listener is not served');
  assert.equal(await stat('listener_manager.total_listeners_active'), 1, 'a warming listener is not active');
  const ack = ads.waitForRequest((r) => r.type_url === TYPE.route && r.version_info === 'r-v1', from);
  // Resources not asked for are ignored.
  ads.push(TYPE.route, 'r-v1', [routeConfig('r1', 'v1'), routeConfig('unasked', 'x', { safe_regex: { regex: '(' } })]);
  assert.equal((await ack).error_detail, undefined);
  await until(async () => (await sluice.refreshListeners()).some((l) => l.name === 'edge'));
  assert.equal(await stat('listener_manager.total_listeners_warming'), 0);
  assert.equal(await stat('listener_manager.total_listeners_active'), 2);
  const res = await getEdge();
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-routes'], 'v1');
  assert.equal(await stat('http.edge.rds.r1.update_success'), 1);
});

test('RDS over ADS: a route change swaps routes under load, no failed request, no listener churn', { timeout: 20_000 }, async () => {
  const modified = (await stat('listener_manager.listener_modified')) ?? 0;
  const load = startLoad(() => getEdge(), { key: (res) => res.headers['x-routes'] });
  await until(() => load.count('v1') > 50);
  ads.push(TYPE.route, 'r-v2', [routeConfig('r1', 'v2')]);
  await until(() => load.count('v2') > 50);
  assert.equal((await load.stop()).failed, 0);
  assert.equal((await stat('listener_manager.listener_modified')) ?? 0, modified);
  assert.equal(await stat('http.edge.rds.r1.update_success'), 2);
});

test('RDS over ADS: a bad route config is NACKed with its path; the old routes keep serving', { timeout: 20_000 }, async () => {
  const from = ads.requests.length;
  const nonce = ads.push(TYPE.route, 'r-bad', [routeConfig('r1', 'v3', { safe_regex: { regex: '(' } })]);
  const nack = await ads.waitForRequest((r) => r.type_url === TYPE.route && r.response_nonce === nonce, from);
  assert.equal(nack.version_info, 'r-v2');
  assert.ok(nack.error_detail, 'error_detail is set');
  assert.match(nack.error_detail.message, /route_config 'r1'\.virtual_hosts\[0\]\.routes\[0\]\.match\.safe_regex/);
  assert.equal(await stat('http.edge.rds.r1.update_rejected'), 1);
  assert.equal(await stat('http.edge.rds.r1.update_attempt'), (await stat('http.edge.rds.r1.update_success')) + 1);
  assert.equal(await stat('http.edge.rds.r1.config_reload'), 2, 'v1 then v2: the rejected one reloaded nothing');
  assert.ok((await stat('http.edge.rds.r1.update_time')) > 0);
  const res = await getEdge();
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-routes'], 'v2');
});

test('RDS over ADS: a route config goes with its last listener; its name leaves the subscription', { timeout: 20_000 }, async () => {
  const from = ads.requests.length;
  const dropped = sluice.waitForLog(/RDS 'r1' is used by no listener any more: dropped/);
  ads.push(TYPE.listener, 'l3', [listener('ingress', 'web')]);
  // Unsubscribed: the next RDS request names nothing (not a wildcard: RDS has none).
  const rds = await ads.waitForRequest((r) => r.type_url === TYPE.route, from);
  assert.deepEqual([...(rds.resource_names ?? [])], []);
  await dropped;
  const dump = JSON.parse((await request({ port: Number(sluice.admin.split(':')[1]), path: '/config_dump' })).body);
  const routesDump = dump.configs.find((c) => c['@type'].endsWith('RoutesConfigDump'));
  assert.deepEqual(routesDump.dynamic_route_configs ?? [], [], 'no dynamic route config is left');
  // The listener comes back: its route config is requested again and served.
  ads.push(TYPE.route, 'r-v4', [routeConfig('r1', 'v4')]);
  const again = ads.requests.length;
  ads.push(TYPE.listener, 'l4', [listener('ingress', 'web'), rdsListener('edge', 'r1')]);
  const rerequest = await ads.waitForRequest((r) => r.type_url === TYPE.route && (r.resource_names ?? []).includes('r1'), again);
  assert.ok(rerequest);
  await until(async () => (await sluice.refreshListeners()).some((l) => l.name === 'edge'));
  const res = await getEdge();
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-routes'], 'v4');
});

// Envoy's init order for a static listener whose routes come over ADS: CDS
// (and its EDS) first; the route configuration is requested only once CDS has
// answered, or after cds_config's initial_fetch_timeout.
function staticRdsBootstrap(adsPort, cdsExtra = {}) {
  return {
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
      cds_config: { ads: {}, resource_api_version: 'V3', ...cdsExtra },
    },
    static_resources: {
      clusters: [staticCluster('xds', [adsPort], { http2_protocol_options: {} })],
      listeners: [rdsListenerObject('edge', 'r1')],
    },
  };
}

test('a static listener\'s RDS over ADS is requested after the CDS response, then serves the pushed cluster', { timeout: 20_000 }, async () => {
  const control = new AdsServer();
  await control.start();
  control.push(TYPE.route, 'r-v1', [routeConfig('r1', 'v1')]);  // CDS withheld until the test pushes it
  const s = await startSluice(staticRdsBootstrap(control.port));
  try {
    await control.waitForRequest((r) => r.type_url === TYPE.cluster);
    // A barrier on the stream: a response of a type sluice did not subscribe
    // to is NACKed after every request sluice had sent before it.
    const unknown = 'type.googleapis.com/envoy.config.cluster.v3.Filter';
    const nonce = control.push(unknown, 'u1', []);
    await control.waitForRequest((r) => r.type_url === unknown && r.response_nonce === nonce);
    assert.ok(!control.requests.some((r) => r.type_url === TYPE.route), 'no RDS request before CDS answered');
    control.push(TYPE.endpoint, 'e1', [assignment('web', [a.port])]);
    control.push(TYPE.cluster, 'c1', [edsCluster('web')]);
    const rds = await control.waitForRequest((r) => r.type_url === TYPE.route);
    assert.deepEqual([...rds.resource_names], ['r1']);
    const cds = control.responses.find((r) => r.type_url === TYPE.cluster);
    assert.ok(control.requests.indexOf(rds) >= cds.after, 'RDS requested once the CDS response arrived');
    await until(async () => (await s.refreshListeners()).some((l) => l.name === 'edge'));
    const res = await request({ port: s.port('edge'), path: '/' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-routes'], 'v1');
    assert.equal(res.headers['x-backend'], 'a');
    assert.equal(await s.stat('cluster_manager.cds.init_fetch_timeout') ?? 0, 0);
  } finally {
    await s.stop();
    control.stop();
  }
});

test('no CDS response: the static listener\'s RDS goes ahead after cds_config.initial_fetch_timeout', { timeout: 20_000 }, async () => {
  const control = new AdsServer();
  await control.start();
  control.push(TYPE.route, 'r-v1', [routeConfig('r1', 'v1')]);  // CDS has no state: never answered
  const s = await startSluice(staticRdsBootstrap(control.port, { initial_fetch_timeout: '0.3s' }));
  try {
    const rds = await control.waitForRequest((r) => r.type_url === TYPE.route);
    await until(() => /no CDS response within initial_fetch_timeout; subscribing to RDS/.test(s.stderr));
    assert.deepEqual([...rds.resource_names], ['r1']);
    assert.equal(await s.stat('cluster_manager.cds.init_fetch_timeout'), 1);
    await until(async () => (await s.refreshListeners()).some((l) => l.name === 'edge'));
    // The pushed table serves (no table would be 404 NR): its route names a
    // cluster CDS never sent, so 503 NC.
    await until(async () => (await s.stat('http.edge.rds.r1.update_success')) === 1);
    const res = await request({ port: s.port('edge'), path: '/' });
    assert.equal(res.status, 503);
    assert.equal(await s.stat('http.edge.no_cluster'), 1);
  } finally {
    await s.stop();
    control.stop();
  }
});
