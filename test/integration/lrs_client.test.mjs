// sluice's LRS client (cluster_manager.load_stats_config) against a scripted
// load reporting service (lib/lrs_server.mjs): the first request carries the
// node; the reports that follow count, per cluster and locality, exactly the
// requests sluice proxied since the last one (successes, 5xx and connect
// failures as errors), at the interval the server asked for, for the
// clusters it named (or all of them); a bad response is counted and ignored;
// the server dying and coming back gets a new stream, and the load made
// meanwhile is reported on it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, httpListener, routes, staticCluster } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { freePort, until } from './lib/control.mjs';
import { LrsServer, seconds } from './lib/lrs_server.mjs';

let lrs;
let a;
let b;
let deadPort;
let sluice;

const endpoint = (port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } });
const route = (prefix, cluster) => ({ name: cluster, match: { prefix }, route: { cluster, prefix_rewrite: '/' } });

function bootstrap(lrsPort) {
  return {
    node: { id: 'edge-9', cluster: 'edge', locality: { zone: 'z1' } },
    cluster_manager: {
      load_stats_config: {
        api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'lrs' } }],
      },
    },
    static_resources: {
      listeners: [httpListener({
        name: 'ingress',
        routeConfig: routes([route('/web/', 'web'), route('/dead/', 'dead'), route('/full/', 'full'),
          route('/other/', 'other')]),
      })],
      clusters: [
        {
          name: 'web',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: 'web',
            endpoints: [
              { locality: { region: 'r', zone: 'z1' }, lb_endpoints: [endpoint(a.port)] },
              { locality: { region: 'r', zone: 'z2', sub_zone: 's' }, lb_endpoints: [endpoint(b.port)] },
            ],
          },
        },
        {
          name: 'dead',
          connect_timeout: '1s',
          load_assignment: { cluster_name: 'dead', endpoints: [{ locality: { zone: 'z3' }, lb_endpoints: [endpoint(deadPort)] }] },
        },
        staticCluster('full', [a.port], { circuit_breakers: { thresholds: [{ max_requests: 0 }] } }),
        staticCluster('other', [a.port]),
        staticCluster('lrs', [lrsPort], { http2_protocol_options: {} }),
      ],
    },
  };
}

const get = (path) => request({ port: sluice.port('ingress'), path });
const reportsOf = (stream) => stream.requests.slice(1).map((r) => r.message);
const statOf = (name) => sluice.stat(`cluster_manager.load_reporter.${name}`);

// The sums over `reports` for `cluster`, per locality zone.
function totals(reports, cluster) {
  const t = { dropped: 0, zones: {} };
  for (const r of reports) {
    for (const c of r.cluster_stats ?? []) {
      if (c.cluster_name !== cluster) continue;
      t.dropped += Number(c.total_dropped_requests ?? 0);
      for (const l of c.upstream_locality_stats ?? []) {
        const z = (t.zones[l.locality?.zone ?? ''] ??= { ok: 0, errors: 0, issued: 0, locality: l.locality });
        z.ok += Number(l.total_successful_requests ?? 0);
        z.errors += Number(l.total_error_requests ?? 0);
        z.issued += Number(l.total_issued_requests ?? 0);
        z.inProgress = Number(l.total_requests_in_progress ?? 0);
      }
    }
  }
  return t;
}

before(async () => {
  lrs = new LrsServer();
  await lrs.start();
  a = await startBackend({ name: 'a' });
  b = await startBackend({ name: 'b' });
  deadPort = await freePort();
  // One worker: its round robin alternates the two localities of 'web' exactly.
  sluice = await startSluice(bootstrap(lrs.port), { concurrency: 1 });
});

after(async () => {
  await sluice?.stop();
  await a?.close();
  await b?.close();
  lrs?.stop();
});

test('the first request carries the node with envoy.lrs.supports_send_all_clusters, and no load', { timeout: 20_000 }, async () => {
  await lrs.until(() => lrs.streams[0]?.requests.length >= 1);
  const first = lrs.streams[0].requests[0].message;
  assert.equal(first.node.id, 'edge-9');
  assert.equal(first.node.cluster, 'edge');
  assert.equal(first.node.user_agent_name, 'sluice');
  assert.ok(first.node.client_features.includes('envoy.lrs.supports_send_all_clusters'), JSON.stringify(first.node));
  assert.deepEqual(first.cluster_stats ?? [], []);
  assert.equal(await statOf('requests'), 1);
});

test('reports count each locality exactly: successes, 5xx and connect failures; circuit-breaker drops; only the named clusters; at the interval', { timeout: 30_000 }, async () => {
  const stream = lrs.streams[0];
  const respondedAt = Date.now();  // before sluice can start the period
  stream.respond({ clusters: ['web', 'dead', 'full', 'nosuch'], load_reporting_interval: { seconds: 0, nanos: 200_000_000 } });
  await until(async () => (await statOf('responses')) === 1, 'the response applied');
  for (let i = 0; i < 6; i++) assert.equal((await get('/web/ok')).status, 200);
  for (let i = 0; i < 4; i++) assert.equal((await get('/web/status/503')).status, 503);
  for (let i = 0; i < 3; i++) assert.equal((await get('/dead/x')).status, 503);
  for (let i = 0; i < 2; i++) assert.equal((await get('/full/x')).status, 503);
  await lrs.until(() => {
    const r = reportsOf(stream);
    return totals(r, 'web').zones.z2?.issued === 5 && totals(r, 'dead').zones.z3?.issued === 3 && totals(r, 'full').dropped === 2;
  });
  // Two more intervals: nothing more is counted.
  const seen = stream.requests.length;
  await lrs.until(() => stream.requests.length >= seen + 2);
  const reports = reportsOf(stream);
  const web = totals(reports, 'web');
  assert.deepEqual(Object.keys(web.zones).sort(), ['z1', 'z2']);
  assert.deepEqual(web.zones.z1.locality, { region: 'r', zone: 'z1' });
  assert.deepEqual(web.zones.z2.locality, { region: 'r', zone: 'z2', sub_zone: 's' });
  assert.deepEqual([web.zones.z1.ok, web.zones.z1.errors, web.zones.z1.issued, web.zones.z1.inProgress], [3, 2, 5, 0]);
  assert.deepEqual([web.zones.z2.ok, web.zones.z2.errors, web.zones.z2.issued, web.zones.z2.inProgress], [3, 2, 5, 0]);
  assert.equal(web.dropped, 0);
  const dead = totals(reports, 'dead');
  assert.deepEqual([dead.zones.z3.ok, dead.zones.z3.errors, dead.zones.z3.issued], [0, 3, 3]);
  const full = totals(reports, 'full');
  assert.equal(full.dropped, 2);
  assert.deepEqual(full.zones, {});
  // Only the named clusters that exist, each in every report.
  for (const r of reports) {
    assert.deepEqual(r.cluster_stats.map((c) => c.cluster_name).sort(), ['dead', 'full', 'web']);
    assert.equal(r.node.id, 'edge-9');
  }
  // The interval: each report covers at least the 200 ms asked for, and
  // together they cover the time since the response (no gap, no overlap).
  const intervals = reports.map((r) => seconds(r.cluster_stats[0].load_report_interval));
  for (const s of intervals) assert.ok(s >= 0.199 && s < 5, `interval ${s}`);
  const covered = intervals.reduce((x, y) => x + y, 0);
  const elapsed = (stream.requests.at(-1).at - respondedAt) / 1000;
  assert.ok(covered <= elapsed + 0.02 && covered >= elapsed - 1, `covered ${covered}s of ${elapsed}s`);
});

test('send_all_clusters: every cluster is reported', { timeout: 20_000 }, async () => {
  const stream = lrs.streams[0];
  stream.respond({ send_all_clusters: true, load_reporting_interval: { seconds: 0, nanos: 100_000_000 } });
  await until(async () => (await statOf('responses')) === 2, 'the response applied');
  const seen = stream.requests.length;
  await lrs.until(() => stream.requests.length >= seen + 2);
  const last = stream.requests.at(-1).message;
  assert.deepEqual(last.cluster_stats.map((c) => c.cluster_name).sort(), ['dead', 'full', 'lrs', 'other', 'web']);
  assert.equal((await get('/other/x')).status, 200);
  await lrs.until(() => totals(reportsOf(stream).slice(seen - 1), 'other').zones['']?.ok === 1);
});

test('a response without a usable interval is counted and ignored: the last one stays in force', { timeout: 20_000 }, async () => {
  const stream = lrs.streams[0];
  const errors = (await statOf('errors')) ?? 0;
  stream.respond({ clusters: ['web'] });
  stream.respond({ clusters: ['web'], load_reporting_interval: { seconds: -1 } });
  await until(async () => (await statOf('errors')) === errors + 2, 'two errors counted');
  assert.equal(await statOf('responses'), 2);
  const seen = stream.requests.length;
  await lrs.until(() => stream.requests.length >= seen + 2);
  assert.equal(stream.requests.at(-1).message.cluster_stats.length, 5);  // still send_all_clusters
  assert.equal((await get('/web/ok')).status, 200);  // and sluice serves
});

test('the server dies and comes back: a new stream, the node first, reports again', { timeout: 30_000 }, async () => {
  const port = lrs.port;
  const down = Date.now();
  lrs.stop();
  await until(async () => (await statOf('retries')) >= 1, 'a retry counted');
  lrs = new LrsServer();
  await lrs.start(port);
  await lrs.until(() => lrs.streams[0]?.requests.length >= 1);
  const stream = lrs.streams[0];
  assert.equal(stream.requests[0].message.node.id, 'edge-9');
  assert.deepEqual(stream.requests[0].message.cluster_stats ?? [], []);
  stream.respond({ clusters: ['web'], load_reporting_interval: { seconds: 0, nanos: 100_000_000 } });
  for (let i = 0; i < 2; i++) assert.equal((await get('/web/ok')).status, 200);
  await lrs.until(() => {
    const t = totals(reportsOf(stream), 'web');
    return (t.zones.z1?.ok ?? 0) + (t.zones.z2?.ok ?? 0) >= 3;
  });
  // Nothing is lost meanwhile: the request of the test before (reported to
  // no one) comes with these two, and the first report's interval covers
  // the time since the last report on the old stream.
  const t = totals(reportsOf(stream), 'web');
  assert.equal(t.zones.z1.ok + t.zones.z2.ok, 3);
  const first = seconds(reportsOf(stream)[0].cluster_stats[0].load_report_interval);
  assert.ok(first >= (stream.requests[1].at - down) / 1000 - 0.05, `first interval ${first}s`);
});
