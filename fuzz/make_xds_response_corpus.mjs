// Writes the seed corpus of fuzz/xds_response_fuzz.cc: DiscoveryResponse and
// DeltaDiscoveryResponse messages as the bytes a control plane sends (binary
// protos), encoded with the integration tests' ADS server helpers (Envoy's
// protos from @grpc/grpc-js-xds, pinned in test/integration/package-lock.json).
//   (cd test/integration && npm ci) && node fuzz/make_xds_response_corpus.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { TYPE, any, struct } from '../test/integration/lib/ads_server.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), 'corpus', 'xds_response');
mkdirSync(out, { recursive: true });

const SOTW = 'type.googleapis.com/envoy.service.discovery.v3.DiscoveryResponse';
const DELTA = 'type.googleapis.com/envoy.service.discovery.v3.DeltaDiscoveryResponse';
const encode = (typeUrl, object) => any(typeUrl, object).value;
const write = (name, bytes) => writeFileSync(join(out, name), bytes);

const address = (port) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
const edsCluster = (name) => any(TYPE.cluster, {
  name, type: 'EDS', connect_timeout: { seconds: 1 }, lb_policy: 'ROUND_ROBIN',
  eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: name },
});
const staticCluster = (name, port) => any(TYPE.cluster, {
  name, type: 'STATIC', connect_timeout: { seconds: 1 }, lb_policy: 'LEAST_REQUEST',
  load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: address(port) } }] }] },
});
const assignment = (name, ports) => any(TYPE.endpoint, {
  cluster_name: name,
  endpoints: [{
    locality: { region: 'r1', zone: 'z1' },
    load_balancing_weight: { value: 10 },
    lb_endpoints: ports.map((p, i) => ({ endpoint: { address: address(p) }, load_balancing_weight: { value: i + 1 } })),
  }],
});
const routeConfig = (name) => ({
  name,
  virtual_hosts: [{
    name: 'all', domains: ['*', 'example.com:8080'],
    routes: [
      { match: { prefix: '/api', headers: [{ name: 'x-canary', string_match: { exact: 'yes' } }] }, route: { cluster: 'canary' } },
      { match: { safe_regex: { regex: '^/v[0-9]+/.*' } }, route: { cluster: 'versioned', prefix_rewrite: '/' } },
      { match: { prefix: '/split' }, route: { weighted_clusters: { clusters: [{ name: 'a', weight: { value: 30 } }, { name: 'b', weight: { value: 70 } }] } } },
      { match: { path: '/old' }, redirect: { path_redirect: '/new' } },
      { match: { prefix: '/' }, route: { cluster_header: 'x-cluster', timeout: { seconds: 5 } } },
    ],
  }],
});
const listener = (name, port, routes) => any(TYPE.listener, {
  name, address: address(port),
  filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: any(
    'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
      stat_prefix: name,
      ...routes,
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: any('type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', {}) }],
    }) }] }],
});
const runtime = (name, layer) => any(TYPE.runtime, { name, layer: struct(layer) });

// State of the world, one type each.
write('sotw-clusters', encode(SOTW, { version_info: 'c1', type_url: TYPE.cluster, nonce: '1',
  resources: [edsCluster('web'), edsCluster('api'), staticCluster('local', 8080)] }));
write('sotw-cluster-bad-timeout', encode(SOTW, { version_info: 'c2', type_url: TYPE.cluster, nonce: '2',
  resources: [edsCluster('web'), any(TYPE.cluster, { name: 'bad', connect_timeout: { seconds: -1 } })] }));
write('sotw-listeners', encode(SOTW, { version_info: 'l1', type_url: TYPE.listener, nonce: '3',
  resources: [
    listener('ingress', 10000, { route_config: routeConfig('inline') }),
    listener('rds', 10001, { rds: { route_config_name: 'dynamic', config_source: { ads: {}, resource_api_version: 'V3' } } }),
  ] }));
write('sotw-listener-duplicate-port', encode(SOTW, { version_info: 'l2', type_url: TYPE.listener, nonce: '4',
  resources: [listener('a', 10000, { route_config: routeConfig('x') }), listener('b', 10000, { route_config: routeConfig('y') })] }));
write('sotw-routes', encode(SOTW, { version_info: 'r1', type_url: TYPE.route, nonce: '5',
  resources: [any(TYPE.route, routeConfig('dynamic'))] }));
write('sotw-route-bad-regex', encode(SOTW, { version_info: 'r2', type_url: TYPE.route, nonce: '6',
  resources: [any(TYPE.route, { name: 'bad', virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { safe_regex: { regex: '(' } }, route: { cluster: 'x' } }] }] })] }));
write('sotw-endpoints', encode(SOTW, { version_info: 'e1', type_url: TYPE.endpoint, nonce: '7',
  resources: [assignment('web', [8001, 8002]), assignment('api', [8003])] }));
write('sotw-endpoint-bad-address', encode(SOTW, { version_info: 'e2', type_url: TYPE.endpoint, nonce: '8',
  resources: [any(TYPE.endpoint, { cluster_name: 'web', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'not an ip', port_value: 1 } } } }] }] })] }));
write('sotw-runtime', encode(SOTW, { version_info: 'rt1', type_url: TYPE.runtime, nonce: '9',
  resources: [runtime('rtds', { 'routing.split.a': 30, 'health_check.enabled': true, 'name': 'value', nested: { key: 1 } })] }));
write('sotw-wrong-type', encode(SOTW, { version_info: 'x', type_url: TYPE.cluster, nonce: '10',
  resources: [assignment('web', [8001])] }));
write('sotw-empty', encode(SOTW, { version_info: 'c0', type_url: TYPE.cluster, nonce: '11' }));

// Delta.
const resource = (name, body, version) => ({ name, version, resource: body });
write('delta-clusters', encode(DELTA, { system_version_info: 'd1', type_url: TYPE.cluster, nonce: '12',
  resources: [resource('web', edsCluster('web'), 'v1'), resource('local', staticCluster('local', 9000), 'v1')],
  removed_resources: ['old'] }));
write('delta-endpoints-name-mismatch', encode(DELTA, { system_version_info: 'd2', type_url: TYPE.endpoint, nonce: '13',
  resources: [resource('web', assignment('web', [8001]), 'v2'), resource('other', assignment('api', [8002]), 'v2')] }));
write('delta-listener-and-route', encode(DELTA, { system_version_info: 'd3', type_url: TYPE.listener, nonce: '14',
  resources: [resource('ingress', listener('ingress', 10000, { route_config: routeConfig('inline') }), 'v3')] }));
write('delta-routes', encode(DELTA, { system_version_info: 'd4', type_url: TYPE.route, nonce: '15',
  resources: [resource('dynamic', any(TYPE.route, routeConfig('dynamic')), 'v4')] }));
write('delta-runtime-no-body', encode(DELTA, { system_version_info: 'd5', type_url: TYPE.runtime, nonce: '16',
  resources: [resource('rtds', runtime('rtds', { k: 'v' }), 'v5'), { name: 'ttl-heartbeat', version: 'v5' }],
  removed_resources: ['gone'] }));
console.log(`wrote ${out}`);
