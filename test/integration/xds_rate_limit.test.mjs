// ApiConfigSource.rate_limit_settings against the real binary: requests to
// the control plane leave no faster than the token bucket allows, and each
// one that waits counts control_plane.rate_limit_enforced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, httpListener, routes, staticCluster } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { AdsServer, TYPE, any } from './lib/ads_server.mjs';

test('rate_limit_settings: past the burst, requests wait for their token; rate_limit_enforced counts them', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend({ name: 'a' });
  const ads = new AdsServer();
  await ads.start();
  t.after(() => { ads.stop(); return backend.close(); });
  const cluster = any(TYPE.cluster, { name: 'web', type: 'EDS', connect_timeout: { seconds: 1 }, eds_cluster_config: { eds_config: { ads: {} } } });
  ads.push(TYPE.cluster, 'c1', [{ name: 'web', any: cluster }]);
  ads.push(TYPE.endpoint, 'e1', [{
    name: 'web',
    any: any(TYPE.endpoint, { cluster_name: 'web', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: backend.port } } } }] }] }),
  }]);
  const l = httpListener({ name: 'ingress', routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) });
  ads.push(TYPE.listener, 'l1', [{ name: 'ingress', any: any(TYPE.listener, l) }]);
  // A burst of 2, then 4 a second: the start (CDS, its ACK, EDS, LDS, their ACKs) needs more than 2.
  const sluice = await startSluice({
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }], rate_limit_settings: { max_tokens: 2, fill_rate: 4 } },
      cds_config: { ads: {}, resource_api_version: 'V3' },
      lds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: { clusters: [staticCluster('xds', [ads.port], { http2_protocol_options: {} })] },
  });
  t.after(() => sluice.stop());
  await ads.waitForRequest((r) => r.type_url === TYPE.listener && r.version_info === 'l1');
  const res = await request({ port: (await sluice.refreshListeners(), sluice.port('ingress')), path: '/' });
  assert.equal(res.status, 200, 'configured through the limit');
  const times = ads.requests.map((r) => r.received);
  assert.ok(times.length >= 5, `${times.length} requests`);
  // From the third on, one token each at 4 a second: at least 250 ms apart (less a little for timer granularity).
  for (let i = 3; i < times.length; i++) {
    assert.ok(times[i] - times[i - 1] >= 200, `request ${i} came ${(times[i] - times[i - 1]).toFixed(0)} ms after the one before`);
  }
  assert.ok((await sluice.stat('control_plane.rate_limit_enforced')) >= times.length - 2);
});
