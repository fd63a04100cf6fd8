// Stats in Dropbox's style: read /stats?format=json, send real requests
// through the real binary, read again and check the deltas of named stats.
// /stats/prometheus is read back by a strict exposition-format parser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { blackHole } from './lib/peers.mjs';

let backend;
let sluice;
let deadPort;

function adminPort(s) { return Number(s.admin.split(':')[1]); }

async function admin(s, path, method = 'GET') {
  return request({ port: adminPort(s), path, method });
}

// name -> value for every counter and gauge; histograms under .histograms.
async function readStats(s = sluice, query = '') {
  const res = await admin(s, `/stats?format=json${query}`);
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /application\/json/);
  const out = { histograms: {} };
  for (const entry of JSON.parse(res.body).stats) {
    if (entry.histograms) {
      assert.deepEqual(entry.histograms.supported_quantiles, [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100]);
      for (const h of entry.histograms.computed_quantiles) out.histograms[h.name] = h.values;
    } else {
      assert.equal(typeof entry.value, 'number', entry.name);
      out[entry.name] = entry.value;
    }
  }
  return out;
}

// Sends `fn`'s requests and returns the change of every stat in `names`.
async function deltas(names, fn) {
  const before = await readStats();
  await fn();
  const after = await readStats();
  const out = {};
  for (const n of names) {
    assert.ok(n in after, `stat ${n} is missing`);
    out[n] = after[n] - (before[n] ?? 0);
  }
  return out;
}

// Waits until gauge `name` reads `value` (connections close asynchronously).
async function gaugeSettles(name, value) {
  for (;;) {
    const s = await readStats();
    if (s[name] === value) return;
    await new Promise((r) => setImmediate(r));
  }
}

before(async () => {
  backend = await startBackend({ name: 'web' });
  const dead = net.createServer();
  dead.listen(0, '127.0.0.1');
  await once(dead, 'listening');
  deadPort = dead.address().port;
  await new Promise((r) => dead.close(r));
  sluice = await startSluice({
    static_resources: {
      listeners: [httpListener({
        name: 'ingress',
        routeConfig: routes([
          { match: { prefix: '/web' }, route: { cluster: 'web', prefix_rewrite: '/' } },
          { match: { prefix: '/status' }, route: { cluster: 'web' } },
          { match: { prefix: '/delay' }, route: { cluster: 'web', timeout: '0.05s' } },
          { match: { prefix: '/empty' }, route: { cluster: 'empty' } },
          { match: { prefix: '/dead' }, route: { cluster: 'dead' } },
        ]),
      })],
      clusters: [
        staticCluster('web', [backend.port]),
        { // resolves to nothing: no hosts
          name: 'empty',
          type: 'STRICT_DNS',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: 'empty',
            endpoints: [{
              lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'nothing.invalid', port_value: 80 } } } }],
            }],
          },
        },
        staticCluster('dead', [deadPort]),
      ],
    },
  });
});

after(async () => {
  await sluice?.stop();
  await backend?.close();
});

test('a 200 through a cluster counts on the listener, connection manager and cluster', async () => {
  const d = await deltas([
    'http.ingress.downstream_rq_total', 'http.ingress.downstream_rq_2xx', 'http.ingress.downstream_rq_4xx',
    'http.ingress.downstream_cx_total', 'listener.127.0.0.1_0.downstream_cx_total',
    'cluster.web.upstream_rq_total', 'cluster.web.upstream_rq_200', 'cluster.web.upstream_rq_2xx',
    'cluster.web.upstream_cx_total', 'server.total_connections',
  ], async () => {
    for (let i = 0; i < 3; ++i) assert.equal((await request({ port: sluice.port(), path: '/web' })).status, 200);
  });
  assert.equal(d['http.ingress.downstream_rq_total'], 3);
  assert.equal(d['http.ingress.downstream_rq_2xx'], 3);
  assert.equal(d['http.ingress.downstream_rq_4xx'], 0);
  assert.equal(d['http.ingress.downstream_cx_total'], 3);
  assert.equal(d['listener.127.0.0.1_0.downstream_cx_total'], 3);
  assert.equal(d['cluster.web.upstream_rq_total'], 3);
  assert.equal(d['cluster.web.upstream_rq_200'], 3);
  assert.equal(d['cluster.web.upstream_rq_2xx'], 3);
  assert.ok(d['cluster.web.upstream_cx_total'] >= 1 && d['cluster.web.upstream_cx_total'] <= 2); // pooled per worker
  await gaugeSettles('http.ingress.downstream_cx_active', 0);
  await gaugeSettles('listener.127.0.0.1_0.downstream_cx_active', 0);
  // The request's end is after its last byte went out: these settle too.
  await gaugeSettles('http.ingress.downstream_rq_active', 0);
  await gaugeSettles('cluster.web.upstream_rq_active', 0);
  const s = await readStats();
  assert.ok(s['cluster.web.upstream_cx_active'] >= 1); // kept alive in the pool
  assert.equal(s['cluster.web.membership_total'], 1);
  assert.equal(s['cluster.web.membership_healthy'], 1);
  assert.equal(s['cluster.empty.membership_total'], 0);
  assert.equal(s['cluster.web.membership_change'], 1); // its first hosts
  assert.equal(s['cluster.empty.membership_change'], 0);
  assert.equal(s['cluster_manager.cluster_added'], 3);
  assert.equal(s['cluster_manager.cluster_removed'], 0);
  assert.equal(s['cluster_manager.active_clusters'], 3);
  // Every closed connection counts as destroyed (the 3 above and any earlier one).
  assert.equal(s['http.ingress.downstream_cx_destroy'], s['http.ingress.downstream_cx_total']);
  assert.equal(s['listener.127.0.0.1_0.downstream_cx_destroy'], s['listener.127.0.0.1_0.downstream_cx_total']);
  assert.equal(s['cluster.web.upstream_cx_destroy'], s['cluster.web.upstream_cx_total'] - s['cluster.web.upstream_cx_active']);
  assert.equal(s['server.live'], 1);
  assert.equal(s['server.concurrency'], 2);
  assert.ok(s['server.uptime'] >= 0);
  assert.ok('server.version' in s);
  // The histograms have values now.
  for (const name of ['http.ingress.downstream_rq_time', 'cluster.web.upstream_rq_time']) {
    const values = s.histograms[name];
    assert.equal(values.length, 10, name);
    for (const v of values) {
      assert.equal(v.interval, null);
      assert.equal(typeof v.cumulative, 'number');
    }
  }
});

test('upstream response codes count per code and class', async () => {
  const d = await deltas([
    'cluster.web.upstream_rq_404', 'cluster.web.upstream_rq_4xx', 'cluster.web.upstream_rq_503',
    'cluster.web.upstream_rq_5xx', 'http.ingress.downstream_rq_4xx', 'http.ingress.downstream_rq_5xx',
  ], async () => {
    assert.equal((await request({ port: sluice.port(), path: '/status/404' })).status, 404);
    assert.equal((await request({ port: sluice.port(), path: '/status/503' })).status, 503);
    assert.equal((await request({ port: sluice.port(), path: '/status/503' })).status, 503);
  });
  assert.deepEqual(d, {
    'cluster.web.upstream_rq_404': 1, 'cluster.web.upstream_rq_4xx': 1, 'cluster.web.upstream_rq_503': 2,
    'cluster.web.upstream_rq_5xx': 2, 'http.ingress.downstream_rq_4xx': 1, 'http.ingress.downstream_rq_5xx': 2,
  });
});

test('a request no route matches counts no_route and a 404', async () => {
  const d = await deltas(['http.ingress.no_route', 'http.ingress.downstream_rq_4xx', 'http.ingress.downstream_rq_total'],
    async () => {
      assert.equal((await request({ port: sluice.port(), path: '/nowhere' })).status, 404);
    });
  assert.deepEqual(d, {
    'http.ingress.no_route': 1, 'http.ingress.downstream_rq_4xx': 1, 'http.ingress.downstream_rq_total': 1,
  });
});

test('a cluster without hosts answers 503 and counts upstream_cx_none_healthy', async () => {
  const d = await deltas(['cluster.empty.upstream_cx_none_healthy', 'cluster.empty.upstream_rq_total',
    'http.ingress.downstream_rq_5xx'], async () => {
    assert.equal((await request({ port: sluice.port(), path: '/empty' })).status, 503);
  });
  assert.deepEqual(d, {
    'cluster.empty.upstream_cx_none_healthy': 1, 'cluster.empty.upstream_rq_total': 0,
    'http.ingress.downstream_rq_5xx': 1,
  });
});

test('a refused connection counts upstream_cx_connect_fail', async () => {
  const d = await deltas(['cluster.dead.upstream_cx_total', 'cluster.dead.upstream_cx_connect_fail',
    'cluster.dead.upstream_cx_connect_timeout', 'cluster.dead.upstream_rq_total', 'http.ingress.downstream_rq_5xx'],
  async () => {
    assert.equal((await request({ port: sluice.port(), path: '/dead' })).status, 503);
  });
  assert.deepEqual(d, {
    'cluster.dead.upstream_cx_total': 1, 'cluster.dead.upstream_cx_connect_fail': 1,
    'cluster.dead.upstream_cx_connect_timeout': 0, 'cluster.dead.upstream_rq_total': 0,
    'http.ingress.downstream_rq_5xx': 1,
  });
  const s = await readStats();
  assert.equal(s['cluster.dead.upstream_cx_active'], 0);
});

test('a route timeout counts upstream_rq_timeout and a 504', async () => {
  const d = await deltas(['cluster.web.upstream_rq_timeout', 'cluster.web.upstream_rq_total',
    'http.ingress.downstream_rq_5xx'], async () => {
    assert.equal((await request({ port: sluice.port(), path: '/delay/2000' })).status, 504);
  });
  assert.deepEqual(d, {
    'cluster.web.upstream_rq_timeout': 1, 'cluster.web.upstream_rq_total': 1, 'http.ingress.downstream_rq_5xx': 1,
  });
});

test('/stats text is sorted "name: value" lines, then the histograms with Envoy\'s quantiles', async () => {
  await request({ port: sluice.port(), path: '/web' });
  const res = await admin(sluice, '/stats');
  assert.equal(res.status, 200);
  const lines = res.body.trimEnd().split('\n');
  const plain = lines.filter((l) => /^[^:]+: -?\d+$/.test(l));
  const histograms = lines.filter((l) => !/^[^:]+: -?\d+$/.test(l));
  assert.deepEqual(plain.map((l) => l.split(':')[0]), plain.map((l) => l.split(':')[0]).sort());
  assert.equal(plain.length + histograms.length, lines.length);
  const rqTime = histograms.find((l) => l.startsWith('cluster.web.upstream_rq_time: '));
  assert.match(rqTime, /^cluster\.web\.upstream_rq_time: P0\(nan,[\d.]+\) P25\(nan,[\d.]+\) P50\(nan,[\d.]+\) P75\(nan,[\d.]+\) P90\(nan,[\d.]+\) P95\(nan,[\d.]+\) P99\(nan,[\d.]+\) P99\.5\(nan,[\d.]+\) P99\.9\(nan,[\d.]+\) P100\(nan,[\d.]+\)$/);
  for (const h of histograms) assert.match(h, /^[\w.]+: (No recorded values|(P[\d.]+\(nan,[\d.]+\) ?){10})$/);
});

test('/stats?filter and ?usedonly', async () => {
  const filtered = await readStats(sluice, `&filter=${encodeURIComponent('^cluster\\.web\\.upstream_rq_\\d')}`);
  const names = Object.keys(filtered).filter((n) => n !== 'histograms');
  assert.ok(names.length > 0);
  for (const n of names) assert.match(n, /^cluster\.web\.upstream_rq_\d/);
  const used = await readStats(sluice, '&usedonly');
  assert.ok('cluster.web.upstream_rq_total' in used);
  assert.ok(!('cluster.web.upstream_cx_connect_timeout' in used)); // never incremented
  assert.ok(!('cluster.dead.upstream_rq_time' in used.histograms)); // no values
  const bad = await admin(sluice, `/stats?filter=${encodeURIComponent('(')}`);
  assert.equal(bad.status, 400);
});

// --- a strict parser of the Prometheus text exposition format (0.0.4) ---
function parsePrometheus(text) {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const labelName = '[a-zA-Z_][a-zA-Z0-9_]*';
  const labelValue = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
  const sampleRe = new RegExp(`^(${name})(?:\\{((?:${labelName}=${labelValue})(?:,${labelName}=${labelValue})*,?)?\\})? (\\S+)(?: -?\\d+)?$`);
  const types = new Map();
  const families = new Map(); // family -> [{name, labels, value}]
  let current = null;
  const seen = new Set();
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('#')) {
      const m = line.match(new RegExp(`^# (TYPE|HELP) (${name}) (.*)$`));
      assert.ok(m, `bad comment line: ${line}`);
      if (m[1] === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]), line);
        assert.ok(!types.has(m[2]), `second TYPE for ${m[2]}`);
        types.set(m[2], m[3]);
        current = m[2];
        families.set(current, []);
      }
      continue;
    }
    assert.notEqual(line, '', 'no empty lines');
    const m = line.match(sampleRe);
    assert.ok(m, `bad sample line: ${line}`);
    const [, metric, labelText = '', valueText] = m;
    assert.ok(/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|[+-]Inf|NaN)$/.test(valueText), `bad value: ${line}`);
    assert.ok(current, `sample before any TYPE: ${line}`);
    const type = types.get(current);
    const suffixOk = type === 'histogram'
      ? [`${current}_bucket`, `${current}_sum`, `${current}_count`].includes(metric)
      : metric === current;
    assert.ok(suffixOk, `sample ${metric} outside its family ${current}`);
    const labels = {};
    for (const [, k, v] of labelText.matchAll(new RegExp(`(${labelName})=(${labelValue})`, 'g'))) {
      assert.ok(!(k in labels), `duplicate label ${k}`);
      labels[k] = JSON.parse(v);
    }
    const key = metric + JSON.stringify(Object.entries(labels).sort());
    assert.ok(!seen.has(key), `duplicate series ${key}`);
    seen.add(key);
    families.get(current).push({ name: metric, labels, value: Number(valueText) });
  }
  // Histograms: per series, buckets ascending by le, cumulative, +Inf == _count.
  for (const [family, samples] of families) {
    if (types.get(family) !== 'histogram') continue;
    const series = new Map();
    for (const s of samples) {
      const { le, ...rest } = s.labels;
      const id = JSON.stringify(Object.entries(rest).sort());
      if (!series.has(id)) series.set(id, { buckets: [], sum: null, count: null });
      const entry = series.get(id);
      if (s.name.endsWith('_bucket')) {
        assert.ok(le !== undefined, `bucket without le in ${family}`);
        entry.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), value: s.value });
      } else if (s.name.endsWith('_sum')) {
        entry.sum = s.value;
      } else {
        entry.count = s.value;
      }
    }
    for (const [id, e] of series) {
      assert.ok(e.buckets.length > 0 && e.sum !== null && e.count !== null, `${family}${id} incomplete`);
      for (let i = 1; i < e.buckets.length; ++i) {
        assert.ok(e.buckets[i].le > e.buckets[i - 1].le, `${family}${id} le not ascending`);
        assert.ok(e.buckets[i].value >= e.buckets[i - 1].value, `${family}${id} buckets not cumulative`);
      }
      const last = e.buckets[e.buckets.length - 1];
      assert.equal(last.le, Infinity, `${family}${id} has no +Inf bucket`);
      assert.equal(last.value, e.count, `${family}${id} +Inf != _count`);
    }
  }
  return { types, families };
}

test('/stats/prometheus is valid exposition format with Envoy\'s names and tags', async () => {
  await request({ port: sluice.port(), path: '/web' });
  await request({ port: sluice.port(), path: '/status/404' });
  const res = await admin(sluice, '/stats/prometheus');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^text\/plain/);
  const { types, families } = parsePrometheus(res.body);
  const find = (family, name, labels) => families.get(family)?.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(types.get('envoy_cluster_upstream_rq_total'), 'counter');
  assert.ok(find('envoy_cluster_upstream_rq_total', 'envoy_cluster_upstream_rq_total', { envoy_cluster_name: 'web' }).value >= 1);
  assert.ok(find('envoy_cluster_upstream_rq', 'envoy_cluster_upstream_rq', { envoy_response_code: '200', envoy_cluster_name: 'web' }).value >= 1);
  assert.ok(find('envoy_cluster_upstream_rq', 'envoy_cluster_upstream_rq', { envoy_response_code: '404', envoy_cluster_name: 'web' }).value >= 1);
  assert.ok(find('envoy_cluster_upstream_rq_xx', 'envoy_cluster_upstream_rq_xx', { envoy_response_code_class: '2', envoy_cluster_name: 'web' }).value >= 1);
  assert.ok(find('envoy_http_downstream_rq_xx', 'envoy_http_downstream_rq_xx', { envoy_response_code_class: '2', envoy_http_conn_manager_prefix: 'ingress' }).value >= 1);
  assert.equal(types.get('envoy_listener_downstream_cx_active'), 'gauge');
  assert.ok(find('envoy_listener_downstream_cx_total', 'envoy_listener_downstream_cx_total', { envoy_listener_address: '127.0.0.1_0' }).value >= 1);
  assert.equal(types.get('envoy_server_live'), 'gauge');
  assert.equal(types.get('envoy_cluster_upstream_rq_time'), 'histogram');
  assert.ok(find('envoy_cluster_upstream_rq_time', 'envoy_cluster_upstream_rq_time_count', { envoy_cluster_name: 'web' }).value >= 1);
  assert.ok(find('envoy_http_downstream_rq_time', 'envoy_http_downstream_rq_time_bucket', { envoy_http_conn_manager_prefix: 'ingress', le: '+Inf' }).value >= 1);
});

test('/reset_counters needs POST and zeroes counters, not gauges', async () => {
  await request({ port: sluice.port(), path: '/web' });
  assert.equal((await admin(sluice, '/reset_counters')).status, 405);
  const before = await readStats();
  assert.ok(before['cluster.web.upstream_rq_total'] > 0);
  assert.equal((await admin(sluice, '/reset_counters', 'POST')).status, 200);
  const after = await readStats();
  assert.equal(after['cluster.web.upstream_rq_total'], 0);
  assert.equal(after['http.ingress.downstream_rq_total'], 0);
  assert.equal(after['server.concurrency'], 2);
  assert.equal(after['cluster.web.membership_total'], 1);
  const d = await deltas(['cluster.web.upstream_rq_total'], async () => {
    await request({ port: sluice.port(), path: '/web' });
  });
  assert.equal(d['cluster.web.upstream_rq_total'], 1);
});

test('stats_config.stats_matcher: excluded stats are neither created nor reported', async () => {
  const s = await startSluice({
    stats_config: {
      stats_matcher: {
        exclusion_list: { patterns: [{ prefix: 'listener.' }, { safe_regex: { regex: '^cluster\\.[^.]+\\.upstream_cx_.*' } }] },
      },
    },
    static_resources: {
      listeners: [httpListener({ name: 'ex', routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'web' } }]) })],
      clusters: [staticCluster('web', [backend.port])],
    },
  });
  try {
    assert.equal((await request({ port: s.port(), path: '/' })).status, 200);
    const stats = await readStats(s);
    const names = Object.keys(stats);
    assert.ok(!names.some((n) => n.startsWith('listener.')));
    assert.ok(!names.some((n) => /^cluster\.[^.]+\.upstream_cx_/.test(n)));
    assert.equal(stats['cluster.web.upstream_rq_total'], 1);
    assert.equal(stats['http.ex.downstream_rq_2xx'], 1);
  } finally {
    await s.stop();
  }
  const only = await startSluice({
    stats_config: { stats_matcher: { inclusion_list: { patterns: [{ exact: 'server.live' }] } } },
    static_resources: { clusters: [staticCluster('web', [backend.port])] },
  });
  try {
    const stats = await readStats(only);
    assert.deepEqual(Object.keys(stats).sort(), ['histograms', 'server.live']);
  } finally {
    await only.stop();
  }
  const none = await startSluice({ stats_config: { stats_matcher: { reject_all: true } } });
  try {
    const res = await admin(none, '/stats');
    assert.equal(res.body, '');
  } finally {
    await none.stop();
  }
});

test('stats survive a config update: an EDS change keeps the cluster\'s counters and counts membership_change', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-stats-'));
  const other = await startBackend({ name: 'other' });
  const publish = (ports) => {
    const resources = [{
      '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
      cluster_name: 'dyn',
      endpoints: [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } })) }],
    }];
    writeFileSync(join(dir, '.eds.tmp'), JSON.stringify({ version_info: String(ports), resources }));
    renameSync(join(dir, '.eds.tmp'), join(dir, 'eds.json'));
  };
  publish([backend.port]);
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ name: 'dynhttp', routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'dyn' } }]) })],
      clusters: [{
        name: 'dyn', type: 'EDS', connect_timeout: '1s',
        eds_cluster_config: { eds_config: { path_config_source: { path: join(dir, 'eds.json') } } },
      }],
    },
  });
  try {
    for (let i = 0; i < 2; ++i) assert.equal((await request({ port: s.port(), path: '/' })).status, 200);
    let stats = await readStats(s);
    assert.equal(stats['cluster.dyn.upstream_rq_total'], 2);
    assert.equal(stats['cluster.dyn.membership_change'], 1);
    const applied = s.waitForLog(/EDS .* update applied/);
    publish([backend.port, other.port]);
    await applied;
    for (let i = 0; i < 2; ++i) assert.equal((await request({ port: s.port(), path: '/' })).status, 200);
    stats = await readStats(s);
    assert.equal(stats['cluster.dyn.upstream_rq_total'], 4);
    assert.equal(stats['cluster.dyn.upstream_rq_200'], 4);
    assert.equal(stats['http.dynhttp.downstream_rq_2xx'], 4);
    assert.equal(stats['cluster.dyn.membership_total'], 2);
    assert.equal(stats['cluster.dyn.membership_change'], 2);
    assert.equal(stats['cluster_manager.cluster_added'], 1);
  } finally {
    await s.stop();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('upstream_rq_pending_active counts a request while its upstream connection is being made', async () => {
  const hole = await blackHole();
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ name: 'pending', routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'hole' } }]) })],
      clusters: [staticCluster('hole', [hole.port], { connect_timeout: '5s' })],
    },
  }, { concurrency: 1 });
  try {
    assert.equal((await readStats(s))['cluster.hole.upstream_rq_pending_active'], 0);
    const answered = request({ port: s.port('pending'), path: '/' });
    for (;;) {  // the connect never completes: the request waits until connect_timeout
      if ((await readStats(s))['cluster.hole.upstream_rq_pending_active'] === 1) break;
      await new Promise((r) => setImmediate(r));
    }
    const res = await answered;
    assert.equal(res.status, 503);
    const after = await readStats(s);
    assert.equal(after['cluster.hole.upstream_rq_pending_active'], 0);
    assert.equal(after['cluster.hole.upstream_cx_connect_timeout'], 1);
  } finally {
    await s.stop();
    hole.close();
  }
});
