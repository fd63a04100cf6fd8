// api_config_source (a gRPC stream per subscription, to the per-type
// discovery services, as Envoy does without ADS) against the real binary:
// CDS, EDS, LDS and RDS each on their own stream, state of the world and
// delta, with the same protocol rules as ADS.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, httpListener, routes, staticCluster } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { AdsServer, TYPE, any } from './lib/ads_server.mjs';
import { DeltaAdsServer } from './lib/delta_ads_server.mjs';

const cleanup = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const api = (apiType = 'GRPC') => ({ api_config_source: { api_type: apiType, transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] }, resource_api_version: 'V3' });
function edsCluster(name, edsConfig) {
  return any(TYPE.cluster, { name, type: 'EDS', connect_timeout: { seconds: 1 }, eds_cluster_config: { eds_config: edsConfig } });
}
function assignment(name, port) {
  return any(TYPE.endpoint, { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] });
}
function rdsListener(name, routeConfigName, configSource) {
  const l = httpListener({ name, hcm: { rds: { route_config_name: routeConfigName, config_source: configSource } } });
  delete l.filter_chains[0].filters[0].typed_config.route_config;
  return any(TYPE.listener, l);
}
async function until(check, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${check}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('api_config_source GRPC: CDS, EDS, LDS and RDS each on its own stream to its service; traffic flows', { timeout: 20_000 }, async () => {
  const backend = await startBackend({ name: 'a' });
  cleanup.push(() => backend.close());
  const server = new AdsServer();
  await server.start();
  cleanup.push(() => server.stop());
  server.push(TYPE.cluster, 'c1', [{ name: 'web', any: edsCluster('web', api()) }]);
  server.push(TYPE.endpoint, 'e1', [{ name: 'web', any: assignment('web', backend.port) }]);
  server.push(TYPE.listener, 'l1', [{ name: 'edge', any: rdsListener('edge', 'r1', api()) }]);
  server.push(TYPE.route, 'r1', [{ name: 'r1', any: any(TYPE.route, { name: 'r1', ...routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) }) }]);
  const s = await startSluice({
    node: { id: 'n1', cluster: 'edge' },
    dynamic_resources: { cds_config: api(), lds_config: api() },
    static_resources: { clusters: [staticCluster('xds', [server.port], { http2_protocol_options: {} })] },
  });
  cleanup.push(() => s.stop());
  await until(async () => (await s.refreshListeners()).some((l) => l.name === 'edge'));
  const res = await request({ port: s.port('edge'), path: '/' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-backend'], 'a');
  const methodOf = (type) => server.requests.find((r) => r.type_url === type).method;
  assert.equal(methodOf(TYPE.cluster), 'StreamClusters');
  assert.equal(methodOf(TYPE.endpoint), 'StreamEndpoints');
  assert.equal(methodOf(TYPE.listener), 'StreamListeners');
  assert.equal(methodOf(TYPE.route), 'StreamRoutes');
  const streams = new Set(server.requests.map((r) => r.stream));
  assert.equal(streams.size, 4, 'a stream per subscription');
  // Each stream's first request carries the node; ACKs with version and nonce.
  for (const type of [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route]) {
    assert.equal(server.requests.find((r) => r.type_url === type).node?.id, 'n1');
  }
  const ack = await server.waitForRequest((r) => r.type_url === TYPE.cluster && r.version_info === 'c1');
  assert.ok(ack.response_nonce);
  // LDS only once CDS was answered (Envoy's init order, on separate streams too).
  const cdsSent = server.responses.find((r) => r.type_url === TYPE.cluster);
  assert.ok(server.requests.findIndex((r) => r.type_url === TYPE.listener) >= cdsSent.after);
  // A NACK on its own stream names the path; the old clusters keep serving.
  const nonce = server.push(TYPE.cluster, 'c-bad', [{ name: 'web', any: edsCluster('web', api()) }, { name: 'bad', any: any(TYPE.cluster, { name: 'bad', connect_timeout: { seconds: -1 } }) }]);
  const nack = await server.waitForRequest((r) => r.type_url === TYPE.cluster && r.response_nonce === nonce);
  assert.match(nack.error_detail.message, /cluster 'bad'\.connect_timeout/);
  assert.equal((await request({ port: s.port('edge'), path: '/' })).status, 200);
});

test('api_config_source DELTA_GRPC: CDS as changes on DeltaClusters', { timeout: 20_000 }, async () => {
  const backend = await startBackend({ name: 'b' });
  cleanup.push(() => backend.close());
  const server = new DeltaAdsServer();
  await server.start();
  cleanup.push(() => server.stop());
  const cluster = any(TYPE.cluster, { ...staticCluster('web', [backend.port]), connect_timeout: { seconds: 1 } });
  server.push(TYPE.cluster, [{ name: 'web', version: '1', any: cluster }]);
  const s = await startSluice({
    dynamic_resources: { cds_config: api('DELTA_GRPC') },
    static_resources: {
      listeners: [httpListener({ name: 'edge', routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) })],
      clusters: [staticCluster('xds', [server.port], { http2_protocol_options: {} })],
    },
  });
  cleanup.push(() => s.stop());
  const cds = await server.waitForRequest((r) => r.type_url === TYPE.cluster);
  assert.equal(cds.method, 'DeltaClusters');
  await until(async () => (await s.stat('cluster_manager.cds.update_success')) === 1);
  const res = await request({ port: s.port('edge'), path: '/' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-backend'], 'b');
});
