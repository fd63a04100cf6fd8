// Delta ADS (ads_config.api_type DELTA_GRPC) against the real binary: the
// only static cluster is the control plane's (lib/delta_ads_server.mjs);
// clusters, endpoints, listeners and routes come over one
// DeltaAggregatedResources stream, as changes. The tests share one sluice
// and run in order, each building on the last state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, httpListener, routes, staticCluster } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { TYPE, any } from './lib/ads_server.mjs';
import { DeltaAdsServer } from './lib/delta_ads_server.mjs';
import { startLoad } from './lib/load.mjs';

let ads;
let sluice;
let a;
let b;

function edsCluster(name, version, extra = {}) {
  return { name, version, any: any(TYPE.cluster, { name, type: 'EDS', connect_timeout: { seconds: 1 }, eds_cluster_config: { eds_config: { ads: {} } }, ...extra }) };
}
function assignment(name, version, ports) {
  return {
    name,
    version,
    any: any(TYPE.endpoint, {
      cluster_name: name,
      endpoints: [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } })) }],
    }),
  };
}
function listener(name, version, cluster, prefix = '/') {
  const l = httpListener({ name, routeConfig: routes([{ match: { prefix }, route: { cluster } }]) });
  return { name, version, any: any(TYPE.listener, l) };
}
function rdsListener(name, version, routeConfigName) {
  const l = httpListener({ name, hcm: { rds: { route_config_name: routeConfigName, config_source: { ads: {}, resource_api_version: 'V3' } } } });
  delete l.filter_chains[0].filters[0].typed_config.route_config;
  return { name, version, any: any(TYPE.listener, l) };
}
function routeConfig(name, version, cluster) {
  return { name, version, any: any(TYPE.route, { name, response_headers_to_add: [{ header: { key: 'x-routes', value: version } }], ...routes([{ match: { prefix: '/' }, route: { cluster } }]) }) };
}

// Polls `check` every 5 ms until it holds; fails after `ms`.
async function until(check, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${check}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const adminPort = () => Number(sluice.admin.split(':')[1]);
async function stat(name) { return sluice.stat(name); }
async function get(listenerName = 'ingress') {
  return request({ port: sluice.port(listenerName), path: '/' });
}
async function clusters() {
  return (await request({ port: adminPort(), path: '/clusters' })).body;
}
const names = (list) => [...(list ?? [])].sort();

before(async () => {
  a = await startBackend({ name: 'a' });
  b = await startBackend({ name: 'b' });
  ads = new DeltaAdsServer();
  await ads.start();
  ads.push(TYPE.cluster, [edsCluster('web', '1'), edsCluster('other', '1')]);
  ads.push(TYPE.endpoint, [assignment('web', '1', [a.port]), assignment('other', '1', [a.port])]);
  ads.push(TYPE.listener, [listener('ingress', '1', 'web')]);
  sluice = await startSluice({
    node: { id: 'edge-1', cluster: 'edge' },
    dynamic_resources: {
      ads_config: { api_type: 'DELTA_GRPC', transport_api_version: 'V3', set_node_on_first_message_only: true, grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
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

test('delta: CDS, EDS and LDS as changes; traffic flows to the pushed endpoints', { timeout: 20_000 }, async () => {
  const res = await get();
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-backend'], 'a');
  assert.equal(await stat('control_plane.connected_state'), 1);
  assert.equal(await stat('cluster_manager.cds.update_success'), 1);
  assert.equal(await stat('listener_manager.lds.update_success'), 1);
  assert.match(sluice.stderr, /ads: sending delta type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster/);
  assert.match(sluice.stderr, /ads: received delta type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster/);
});

test('delta: wildcard CDS and LDS name nothing, EDS subscribes by name, ACKs carry the nonce', { timeout: 20_000 }, async () => {
  const cds = ads.requests.find((r) => r.type_url === TYPE.cluster);
  assert.deepEqual(names(cds.resource_names_subscribe), []);
  assert.equal(cds.node?.id, 'edge-1');
  const lds = ads.requests.find((r) => r.type_url === TYPE.listener);
  assert.deepEqual(names(lds.resource_names_subscribe), []);
  assert.equal(lds.node, undefined, 'set_node_on_first_message_only');
  const eds = ads.requests.find((r) => r.type_url === TYPE.endpoint);
  assert.deepEqual(names(eds.resource_names_subscribe), ['other', 'web']);
  const firstCds = ads.responses.find((r) => r.type_url === TYPE.cluster);
  const ack = await ads.waitForRequest((r) => r.type_url === TYPE.cluster && r.response_nonce === firstCds.nonce);
  assert.equal(ack.error_detail, undefined);
  // LDS only once the first CDS response has been applied (clusters first).
  assert.ok(ads.requests.indexOf(lds) >= firstCds.after, 'LDS requested after the first CDS response');
});

test('delta: each resource stands alone: a bad cluster is NACKed with its path, the good one beside it applied', { timeout: 20_000 }, async () => {
  const from = ads.requests.length;
  const bad = { name: 'bad', version: '1', any: any(TYPE.cluster, { name: 'bad', connect_timeout: { seconds: -1 } }) };
  const nonce = ads.push(TYPE.cluster, [edsCluster('third', '1'), bad]);
  const nack = await ads.waitForRequest((r) => r.type_url === TYPE.cluster && r.response_nonce === nonce, from);
  assert.ok(nack.error_detail, 'a NACK');
  assert.match(nack.error_detail.message, /cluster 'bad'\.connect_timeout/);
  assert.equal(await stat('cluster_manager.cds.update_rejected'), 1);
  await until(async () => /^third::/m.test(await clusters()));
  assert.doesNotMatch(await clusters(), /^bad::/m);
  // The new cluster's endpoints are subscribed to by name.
  const eds = await ads.waitForRequest((r) => r.type_url === TYPE.endpoint && (r.resource_names_subscribe ?? []).includes('third'), from);
  assert.deepEqual(names(eds.resource_names_subscribe), ['third']);
  const res = await get();
  assert.equal(res.status, 200, 'the previous config keeps serving');
});

test('delta: a rejected listener has an error_state in /config_dump; its next accepted version clears it', { timeout: 20_000 }, async () => {
  const dumpListeners = async () => {
    const dump = JSON.parse((await request({ port: adminPort(), path: '/config_dump' })).body);
    const listeners = dump.configs.find((c) => c['@type'].endsWith('ListenersConfigDump'));
    return Object.fromEntries((listeners.dynamic_listeners ?? []).map((l) => [l.name, l]));
  };
  let from = ads.requests.length;
  const broken = listener('broken', '1', 'web');
  const bad = httpListener({ name: 'broken', routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) });
  bad.address.socket_address.port_value = 70000;
  broken.any = any(TYPE.listener, bad);
  const nonce = ads.push(TYPE.listener, [listener('ingress', '1', 'web'), broken]);
  const nack = await ads.waitForRequest((r) => r.type_url === TYPE.listener && r.response_nonce === nonce, from);
  assert.ok(nack.error_detail);
  let listeners = await dumpListeners();
  assert.match(listeners.broken?.error_state?.details ?? '', /listener 'broken'/);
  assert.equal(listeners.ingress.error_state, undefined);
  from = ads.requests.length;
  const fixed = ads.push(TYPE.listener, [listener('ingress', '1', 'web'), listener('broken', '2', 'web')]);
  const ack = await ads.waitForRequest((r) => r.type_url === TYPE.listener && r.response_nonce === fixed, from);
  assert.equal(ack.error_detail, undefined);
  listeners = await dumpListeners();
  assert.ok(listeners.broken.active_state, 'broken serves');
  assert.equal(listeners.broken.error_state, undefined, 'cleared');
  from = ads.requests.length;
  const gone = ads.remove(TYPE.listener, ['broken']);
  await ads.waitForRequest((r) => r.type_url === TYPE.listener && r.response_nonce === gone, from);
});

test('delta: an endpoint change under load: no failed request, only the changed assignment sent', { timeout: 20_000 }, async () => {
  const load = startLoad(() => get());
  await until(() => load.count('a') > 50);
  const sent = ads.responses.length;
  ads.push(TYPE.endpoint, [assignment('web', '2', [b.port])]);
  await until(() => load.count('b') > 50);
  assert.equal((await load.stop()).failed, 0);
  assert.deepEqual(ads.responses.slice(sent).map((r) => r.names), [['web']]);
});

test('delta: removed_resources deletes a cluster; its endpoints are unsubscribed', { timeout: 20_000 }, async () => {
  const from = ads.requests.length;
  const removed = (await stat('cluster_manager.cluster_removed')) ?? 0;
  ads.remove(TYPE.cluster, ['other']);
  await until(async () => (await stat('cluster_manager.cluster_removed')) === removed + 1);
  assert.doesNotMatch(await clusters(), /^other::/m);
  assert.match(await clusters(), /^web::/m);
  const eds = await ads.waitForRequest((r) => r.type_url === TYPE.endpoint && (r.resource_names_unsubscribe ?? []).length > 0, from);
  assert.deepEqual(names(eds.resource_names_unsubscribe), ['other']);
});

test('delta: RDS by name; a listener removed takes its route config out of the subscription', { timeout: 20_000 }, async () => {
  ads.push(TYPE.route, [routeConfig('r1', 'v1', 'web')]);
  let from = ads.requests.length;
  ads.push(TYPE.listener, [rdsListener('edge', '1', 'r1')]);
  const rds = await ads.waitForRequest((r) => r.type_url === TYPE.route, from);
  assert.deepEqual(names(rds.resource_names_subscribe), ['r1']);
  await until(async () => (await sluice.refreshListeners()).some((l) => l.name === 'edge'));
  const res = await get('edge');
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-routes'], 'v1');
  from = ads.requests.length;
  ads.remove(TYPE.listener, ['edge']);
  const unsubscribe = await ads.waitForRequest((r) => r.type_url === TYPE.route && (r.resource_names_unsubscribe ?? []).length > 0, from);
  assert.deepEqual(names(unsubscribe.resource_names_unsubscribe), ['r1']);
  await until(async () => !(await sluice.refreshListeners()).some((l) => l.name === 'edge'));
});

test('delta: the control plane dies, traffic continues; it returns: initial_resource_versions, only changes sent', { timeout: 20_000 }, async () => {
  const port = ads.port;
  ads.stop();
  await until(async () => (await stat('control_plane.connected_state')) === 0);
  for (let i = 0; i < 20; i++) {
    const res = await get();
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-backend'], 'b');
  }
  // The new server holds the same resources, and one change made while it was away.
  const restarted = new DeltaAdsServer();
  restarted.state = ads.state;
  restarted.push(TYPE.endpoint, [assignment('web', '3', [a.port])]);
  ads = restarted;
  await ads.start(port);
  const cds = await ads.waitForRequest((r) => r.type_url === TYPE.cluster);
  assert.equal(cds.node?.id, 'edge-1', 'the node on the first request of the new stream');
  assert.equal(cds.response_nonce ?? '', '');
  assert.deepEqual(cds.initial_resource_versions, { web: '1', third: '1' });
  const eds = await ads.waitForRequest((r) => r.type_url === TYPE.endpoint);
  assert.deepEqual(eds.initial_resource_versions, { web: '2' });
  await until(async () => (await get()).headers['x-backend'] === 'a');
  // Only the assignment that changed came again.
  assert.deepEqual(ads.responses.filter((r) => r.type_url === TYPE.endpoint).map((r) => r.names), [['web']]);
  // Of the clusters, only the one it rejected (it holds no version of it) came again.
  assert.deepEqual(ads.responses.filter((r) => r.type_url === TYPE.cluster).map((r) => r.names), [['bad']]);
});
