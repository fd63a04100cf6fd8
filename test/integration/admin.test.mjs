// The admin API (Envoy's endpoints and formats): method rules, /server_info,
// /clusters with per-host stats moved by real requests, /config_dump with
// ?resource and ?mask and the versions of file-based xDS, /healthcheck,
// /drain_listeners, /certs, and the listener_manager and memory stats.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

let backend;
let sluice;
let deadPort;

const adminPort = (s) => Number(s.admin.split(':')[1]);
const admin = (s, path, method = 'GET') => request({ port: adminPort(s), path, method });

const GETS = ['/', '/help', '/ready', '/listeners', '/stats', '/stats/prometheus', '/server_info', '/clusters',
  '/config_dump', '/certs'];
const POSTS = ['/healthcheck/fail', '/healthcheck/ok', '/drain_listeners', '/reset_counters', '/quitquitquit'];

function bootstrap() {
  return {
    node: { id: 'node-1', cluster: 'edge' },
    static_resources: {
      listeners: [httpListener({
        routeConfig: {
          name: 'local_routes',
          ...routes([
            { match: { prefix: '/dead' }, route: { cluster: 'dead' } },
            { match: { prefix: '/' }, route: { cluster: 'web' } },
          ]),
        },
      })],
      clusters: [staticCluster('web', [backend.port]), staticCluster('dead', [deadPort])],
    },
  };
}

// "a::b::c::value" lines -> { "a::b::c": "value" } (an IPv4 host:port has one colon).
function parseClusters(text) {
  const out = {};
  for (const line of text.trimEnd().split('\n')) {
    const at = line.lastIndexOf('::');
    out[line.slice(0, at)] = line.slice(at + 2);
  }
  return out;
}

async function readClusters(s = sluice) {
  const res = await admin(s, '/clusters');
  assert.equal(res.status, 200);
  return parseClusters(res.body);
}

async function readStats(s) {
  const res = await admin(s, '/stats?format=json');
  const out = {};
  for (const e of JSON.parse(res.body).stats) if (!e.histograms) out[e.name] = e.value;
  return out;
}

async function configDump(s, query = '') {
  const res = await admin(s, `/config_dump${query}`);
  assert.equal(res.status, 200, res.body);
  assert.match(res.headers['content-type'], /application\/json/);
  return JSON.parse(res.body);
}

// A protobuf JSON Timestamp as nanoseconds since the epoch (BigInt).
function nanos(ts) {
  const [whole, fraction = '0Z'] = ts.split('.');
  const seconds = BigInt(Date.parse(`${whole.replace(/Z$/, '')}Z`) / 1000);
  return seconds * 1_000_000_000n + BigInt(fraction.replace('Z', '').padEnd(9, '0'));
}

// Resolves once a connection to `port` is refused (the drain reaches the
// workers asynchronously); fails after `tries` accepted connections.
async function refused(port, tries = 200) {
  for (let i = 0; i < tries; ++i) {
    const socket = net.connect(port, '127.0.0.1');
    const outcome = await Promise.race([
      once(socket, 'connect').then(() => 'connected'),
      once(socket, 'error').then(([e]) => e.code),
    ]).catch((e) => e.code);
    socket.destroy();
    if (outcome === 'ECONNREFUSED') return true;
    await new Promise((r) => setImmediate(r));
  }
  return false;
}

before(async () => {
  backend = await startBackend({ name: 'web' });
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  deadPort = probe.address().port;
  probe.close();
  sluice = await startSluice(bootstrap());
});

after(async () => {
  await sluice?.stop();
  await backend?.close();
});

test('read-only endpoints answer GET; mutating ones refuse GET with 405 and change nothing; unknown is 404', async () => {
  for (const path of GETS) {
    const res = await admin(sluice, path);
    assert.equal(res.status, 200, path);
  }
  for (const path of POSTS) {
    const res = await admin(sluice, path);
    assert.equal(res.status, 405, path);
    assert.equal(res.body, 'Method GET not allowed, POST required.\n');
    assert.equal((await admin(sluice, path, 'PUT')).status, 405, `${path} PUT`);
  }
  // GET /healthcheck/fail and GET /quitquitquit did nothing.
  assert.equal((await admin(sluice, '/ready')).status, 200);
  assert.equal(sluice.child.exitCode, null);
  const missing = await admin(sluice, '/no/such/endpoint');
  assert.equal(missing.status, 404);
  assert.match(missing.body, /^invalid path\. admin commands are:/);
});

test('/help lists every endpoint with its help, mutating ones marked (POST), parameters below', async () => {
  const help = (await admin(sluice, '/help')).body;
  assert.match(help, /^admin commands are:\n/);
  for (const path of GETS) assert.match(help, new RegExp(`^  ${path.replace(/\//g, '\\/')}: \\S`, 'm'), path);
  for (const path of POSTS) assert.match(help, new RegExp(`^  ${path.replace(/\//g, '\\/')} \\(POST\\): \\S`, 'm'), path);
  assert.match(help, /^  \/config_dump: .*\n(      \w+: .*\n)*      resource: /m);
  assert.match(help, /^  \/clusters: upstream cluster status\n      format: /m);
  assert.match(help, /^  \/stats: print server stats\n      usedonly: .*\n      filter: /m);
  assert.equal((await admin(sluice, '/')).body, help);
});

test('/server_info reports version, state, uptime, options and the node', async () => {
  const res = await admin(sluice, '/server_info');
  assert.match(res.headers['content-type'], /application\/json/);
  const info = JSON.parse(res.body);
  assert.match(info.version, /^sluice\/\d+\.\d+\.\d+\//);
  assert.equal(info.state, 'LIVE');
  assert.match(info.uptime_current_epoch, /^\d+s$/);
  assert.equal(info.uptime_all_epochs, info.uptime_current_epoch);
  assert.equal(info.hot_restart_version, 'disabled');
  const o = info.command_line_options;
  assert.equal(o.concurrency, 2);
  assert.match(o.config_path, /bootstrap\.json$/);
  assert.equal(o.log_level, 'info');
  assert.equal(o.drain_time, '600s');
  assert.equal(o.parent_shutdown_time, '900s');
  assert.equal(o.mode, 'Serve');  // Envoy prints every field of ServerInfo, defaults included
  assert.equal(o.restart_epoch, 0);
  assert.equal(info.node.id, 'node-1');
  assert.equal(info.node.cluster, 'edge');
});

test('/clusters: Envoy text lines, and per-host request counts move with real traffic', async () => {
  const host = `web::127.0.0.1:${backend.port}`;
  const dead = `dead::127.0.0.1:${deadPort}`;
  const before = await readClusters();
  assert.equal(before['web::observability_name'], 'web');
  assert.equal(before['web::default_priority::max_connections'], '1024');
  assert.equal(before['web::default_priority::max_pending_requests'], '1024');
  assert.equal(before['web::default_priority::max_requests'], '1024');
  assert.equal(before['web::default_priority::max_retries'], '3');
  assert.equal(before['web::high_priority::max_retries'], '3');
  assert.equal(before['web::added_via_api'], 'false');
  assert.equal(before[`${host}::health_flags`], 'healthy');
  assert.equal(before[`${host}::weight`], '1');
  assert.equal(before[`${host}::success_rate`], '-1');
  const fields = Object.keys(before).filter((k) => k.startsWith(`${host}::`)).map((k) => k.slice(host.length + 2));
  assert.deepEqual(fields, ['cx_active', 'cx_connect_fail', 'cx_total', 'rq_active', 'rq_error', 'rq_success',
    'rq_timeout', 'rq_total', 'hostname', 'health_flags', 'weight', 'region', 'zone', 'sub_zone', 'canary',
    'priority', 'success_rate', 'local_origin_success_rate']);

  for (let i = 0; i < 5; ++i) assert.equal((await request({ port: sluice.port(), path: `/ok/${i}` })).status, 200);
  assert.equal((await request({ port: sluice.port(), path: '/status/503' })).status, 503);
  assert.equal((await request({ port: sluice.port(), path: '/dead' })).status, 503);
  const after = await readClusters();
  const delta = (key) => Number(after[key]) - Number(before[key]);
  assert.equal(delta(`${host}::rq_total`), 6);
  assert.equal(delta(`${host}::rq_success`), 5);
  assert.equal(delta(`${host}::rq_error`), 1);
  assert.equal(after[`${host}::rq_active`], '0');
  assert.ok(Number(after[`${host}::cx_total`]) >= 1);
  assert.equal(delta(`${dead}::cx_connect_fail`), 1);
  assert.equal(delta(`${dead}::rq_error`), 1);
  assert.equal(delta(`${dead}::rq_success`), 0);

  const json = JSON.parse((await admin(sluice, '/clusters?format=json')).body);
  const web = json.cluster_statuses.find((c) => c.name === 'web');
  assert.equal(web.observability_name, 'web');
  assert.deepEqual(web.circuit_breakers.thresholds.map((t) => t.max_retries), [3, 3]);
  assert.equal(web.circuit_breakers.thresholds[1].priority, 'HIGH');
  const h = web.host_statuses[0];
  assert.deepEqual(h.address.socket_address, { address: '127.0.0.1', port_value: backend.port });
  assert.equal(h.health_status.eds_health_status, 'HEALTHY');
  const stat = (name) => h.stats.find((s) => s.name === name);
  assert.equal(stat('rq_total').value, after[`${host}::rq_total`]);  // uint64 prints as a string
  assert.equal(stat('rq_active').type, 'GAUGE');
  assert.equal((await admin(sluice, '/clusters?format=yaml')).status, 400);
});

test('/healthcheck/fail makes /ready 503 and the state DRAINING; /healthcheck/ok restores', async () => {
  assert.equal((await admin(sluice, '/healthcheck/fail', 'POST')).status, 200);
  const ready = await admin(sluice, '/ready');
  assert.equal(ready.status, 503);
  assert.equal(ready.body, 'DRAINING\n');
  assert.equal(JSON.parse((await admin(sluice, '/server_info')).body).state, 'DRAINING');
  // Traffic still flows: failing health checks only tells load balancers to go away.
  assert.equal((await request({ port: sluice.port(), path: '/' })).status, 200);
  assert.equal((await admin(sluice, '/healthcheck/ok', 'POST')).status, 200);
  assert.equal((await admin(sluice, '/ready')).status, 200);
  assert.equal(JSON.parse((await admin(sluice, '/server_info')).body).state, 'LIVE');
});

test('/certs lists no certificate (no TLS yet)', async () => {
  const res = await admin(sluice, '/certs');
  assert.match(res.headers['content-type'], /application\/json/);
  assert.deepEqual(JSON.parse(res.body), { certificates: [] });
});

test('listener_manager and memory stats are present and plausible', async () => {
  const stats = await readStats(sluice);
  assert.equal(stats['listener_manager.listener_added'], 1);
  assert.equal(stats['listener_manager.listener_create_success'], 2);  // one listener on two workers
  assert.equal(stats['listener_manager.listener_create_failure'], 0);
  assert.equal(stats['listener_manager.listener_modified'], 0);
  assert.equal(stats['listener_manager.listener_removed'], 0);
  assert.equal(stats['listener_manager.listener_stopped'], 0);
  assert.equal(stats['listener_manager.total_listeners_active'], 1);
  assert.equal(stats['listener_manager.total_listeners_warming'], 0);
  assert.equal(stats['listener_manager.total_listeners_draining'], 0);
  const rssBytes = sluice.memory().rss * 1024;
  assert.ok(stats['server.memory_allocated'] > 0);
  assert.ok(stats['server.memory_heap_size'] >= stats['server.memory_allocated']);
  assert.ok(stats['server.memory_physical_size'] > 0);
  assert.ok(stats['server.memory_physical_size'] < 4 * rssBytes);
  assert.ok(stats['server.memory_allocated'] < 4 * rssBytes);
});

test('/config_dump: the four dumps in Envoy order, ?include_eds, ?resource and ?mask', async () => {
  const dump = await configDump(sluice);
  assert.deepEqual(dump.configs.map((c) => c['@type'].split('/')[1]), ['envoy.admin.v3.BootstrapConfigDump',
    'envoy.admin.v3.ClustersConfigDump', 'envoy.admin.v3.ListenersConfigDump', 'envoy.admin.v3.RoutesConfigDump']);
  const [boot, clusters, listeners, routeDump] = dump.configs;
  assert.equal(boot.bootstrap.node.id, 'node-1');
  assert.ok(nanos(boot.last_updated) > 0n);
  assert.deepEqual(clusters.static_clusters.map((c) => c.cluster.name), ['web', 'dead']);
  assert.equal(clusters.static_clusters[0].cluster['@type'], 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
  assert.equal(listeners.static_listeners[0].listener.name, 'ingress');
  assert.equal(routeDump.static_route_configs[0].route_config.name, 'local_routes');

  const eds = await configDump(sluice, '?include_eds');
  assert.equal(eds.configs[2]['@type'], 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump');
  assert.equal(eds.configs[2].static_endpoint_configs[0].endpoint_config.cluster_name, 'web');

  const only = await configDump(sluice, '?resource=static_clusters');
  assert.deepEqual(only.configs.map((c) => c['@type']),
    Array(2).fill('type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster'));
  assert.deepEqual(only.configs.map((c) => c.cluster.name), ['web', 'dead']);

  const masked = await configDump(sluice, '?resource=static_clusters&mask=last_updated');
  for (const c of masked.configs) {
    assert.deepEqual(Object.keys(c).sort(), ['@type', 'last_updated']);
  }
  const twoPaths = await configDump(sluice, '?resource=static_listeners&mask=listener,last_updated');
  assert.deepEqual(Object.keys(twoPaths.configs[0]).sort(), ['@type', 'last_updated', 'listener']);

  // A path goes on through an Any, as in Envoy: only the clusters' names.
  const names = await configDump(sluice, '?resource=static_clusters&mask=cluster.name');
  assert.deepEqual(names.configs.map((c) => c.cluster), [
    { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'web' },
    { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'dead' },
  ]);
  assert.deepEqual(Object.keys(names.configs[0]).sort(), ['@type', 'cluster']);
  assert.equal((await admin(sluice, '/config_dump?resource=static_clusters&mask=cluster.no_such_field')).status, 400);
  assert.equal((await admin(sluice, '/config_dump?resource=static_clusters&mask=last_updated.seconds.x')).status, 400);

  const missing = await admin(sluice, '/config_dump?resource=no_such_field');
  assert.equal(missing.status, 404);
  assert.equal(missing.body, 'no_such_field not found in config dump\n');
  assert.equal((await admin(sluice, '/config_dump?resource=version_info')).status, 400);
  const badMask = await admin(sluice, '/config_dump?resource=static_clusters&mask=no_such_path');
  assert.equal(badMask.status, 400);
  assert.match(badMask.body, /^FieldMask .* could not be successfully used\.\n$/);
  // Without ?resource a mask must fit every dump, as in Envoy: last_updated is not in ClustersConfigDump.
  assert.equal((await admin(sluice, '/config_dump?mask=last_updated')).status, 400);
});

test('/config_dump: an LDS update gives the changed listener the new version and a later last_updated', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-admin-'));
  const publish = (version, resources) => {
    writeFileSync(join(dir, '.lds.tmp'), JSON.stringify({ version_info: version, resources }));
    renameSync(join(dir, '.lds.tmp'), join(dir, 'lds.json'));
  };
  const listener = (name, prefix) => ({
    '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
    ...httpListener({ name, routeConfig: { name: `${name}_routes`, ...routes([{ match: { prefix }, route: { cluster: 'web' } }]) } }),
  });
  publish('v1', [listener('one', '/'), listener('two', '/')]);
  const s = await startSluice({
    static_resources: { clusters: [staticCluster('web', [backend.port])] },
    dynamic_resources: { lds_config: { path_config_source: { path: join(dir, 'lds.json') } } },
  });
  try {
    const dynamic = async () => {
      const d = await configDump(s, '?resource=dynamic_listeners');
      return Object.fromEntries(d.configs.map((c) => [c.name, c]));
    };
    const first = await dynamic();
    assert.equal(first.one['@type'], 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener');
    assert.equal(first.one.active_state.version_info, 'v1');
    assert.equal(first.one.active_state.listener.name, 'one');
    assert.equal(first.two.active_state.version_info, 'v1');
    const full = await configDump(s);
    assert.equal(full.configs[2].version_info, 'v1');
    assert.deepEqual(full.configs[3].static_route_configs.map((r) => r.route_config.name).sort(),
      ['one_routes', 'two_routes']);
    const statsBefore = await readStats(s);
    await s.refreshListeners();
    for (let i = 0; i < 2; ++i) assert.equal((await request({ port: s.port('two'), path: '/' })).status, 200);
    const hostKey = `web::127.0.0.1:${backend.port}::rq_total`;
    const servedBefore = Number((await readClusters(s))[hostKey]);
    assert.ok(servedBefore >= 2);

    const applied = s.waitForLog(/LDS update applied/);
    publish('v2', [listener('one', '/changed'), listener('two', '/')]);
    await applied;
    const second = await dynamic();
    assert.equal(second.one.active_state.version_info, 'v2');
    assert.ok(nanos(second.one.active_state.last_updated) > nanos(first.one.active_state.last_updated));
    // Unchanged: keeps the version and time it was last changed at.
    assert.equal(second.two.active_state.version_info, 'v1');
    assert.equal(second.two.active_state.last_updated, first.two.active_state.last_updated);

    const names = await configDump(s, '?resource=dynamic_listeners&mask=name');
    assert.deepEqual(names.configs.map((c) => Object.keys(c).sort()), [['@type', 'name'], ['@type', 'name']]);

    // The update recompiled every cluster: the host's stats carried over, not reset.
    assert.equal(Number((await readClusters(s))[hostKey]), servedBefore);

    const statsAfter = await readStats(s);
    assert.equal(statsAfter['listener_manager.listener_modified'] - statsBefore['listener_manager.listener_modified'], 1);
    assert.equal(statsAfter['listener_manager.listener_added'], statsBefore['listener_manager.listener_added']);
    assert.equal(statsAfter['listener_manager.total_listeners_active'], 2);
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/drain_listeners: new connections refused, the in-flight request finishes, admin keeps answering', async () => {
  const s = await startSluice(bootstrap());
  try {
    const port = s.port();
    const arrived = once(backend.events, 'request');
    const inflight = request({ port, path: '/delay/300' });
    await arrived;
    assert.equal((await admin(s, '/drain_listeners', 'POST')).status, 200);
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    assert.ok(await refused(port), 'the listener still accepts');
    assert.equal((await admin(s, '/ready')).status, 200);  // Envoy: stopped listeners leave the state LIVE
    assert.equal((await readStats(s))['listener_manager.listener_stopped'], 1);
    assert.equal(s.child.exitCode, null);
  } finally {
    await s.stop();
  }
});

test('/drain_listeners?graceful: keeps accepting with connection: close, DRAINING, then stops', async () => {
  const s = await startSluice(bootstrap(), { args: ['--drain-time-s', '3'] });
  try {
    const stopped = s.waitForLog(/listeners stopped by \/drain_listeners/);
    assert.equal((await admin(s, '/drain_listeners?graceful', 'POST')).status, 200);
    const during = await request({ port: s.port(), path: '/' });
    assert.equal(during.status, 200);
    assert.equal(during.headers.connection, 'close');
    assert.equal(JSON.parse((await admin(s, '/server_info')).body).state, 'DRAINING');
    await stopped;
    assert.ok(await refused(s.port()), 'the listener still accepts');
    assert.equal((await admin(s, '/ready')).status, 200);
    assert.equal(s.child.exitCode, null);
  } finally {
    await s.stop();
  }
});
