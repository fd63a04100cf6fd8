// EDS at scale (issue 13, point 6): one real sluice configured wholly by ADS
// (state of the world) with N EDS clusters, fed by the integration tests' ADS
// server (bench/lib/eds_ads_server.mjs over test/integration/lib/ads_server.mjs).
//
//   node bench/xds_eds.mjs [--clusters 1000,10000] [--updates 100] [--updates-all U]
//                          [--full 100] [--connections 16] [--concurrency 2] [--no-poll]
//                          [--results bench/RESULTS.md] [--wrap 'valgrind ...' --callgrind-zero]
//
// --updates-all: how many single-cluster updates in the "all" shape (default
// --updates). --render FILE: no run; the figures of an earlier one (its
// output, which ends with them as JSON) are written again (give the same
// counts and --no-poll, which the text states). --wrap runs sluice under a
// command that execs it (valgrind); --callgrind-zero zeroes callgrind's counts
// once the clusters are loaded and dumps them before the shutdown, so the
// profile holds the updates alone:
//   node bench/xds_eds.mjs --clusters 2000 --updates 40 --updates-all 0 --full 0 --no-poll --callgrind-zero \
//     --wrap "valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=/tmp/eds.cg"
//   callgrind_annotate --inclusive=yes /tmp/eds.cg.1-01 | head -60   (the main thread; -NN: the others)
//
// `make bench-xds` (bench/run_xds.sh) builds sluice and runs it at 1,000 and
// 10,000 clusters (100 single updates, 20 of the "all" shape, 20 full pushes:
// at 10,000 one of those takes seconds), writing its section of bench/RESULTS.md.
//
// What is measured, per N:
// - load: CDS with N EDS clusters, then one EDS response with N assignments
//   (one endpoint each), on a sluice started with none: the main thread's CPU
//   and the RSS growth, per cluster;
// - single-cluster updates (--updates of them, a random cluster each, moved to
//   the other backend port), in two shapes of response: "one" holds only the
//   changed assignment (what the protocol allows for EDS), "all" holds all N
//   with one changed (what a snapshot cache such as go-control-plane's sends);
// - full-state pushes (--full of them): all N assignments changed at once.
// For each update: `applied`, sluice's own histogram
// cluster_manager.eds_propagation_us (from the response read off the gRPC
// stream to the last worker installing the new hosts; its buckets are diffed
// per phase, no polling, so it is the figure the goal is judged on); `ack`, the time from the response written to the socket
// (grpc-js's write callback) to sluice's ACK of its nonce arriving; `served`,
// the time from the same instant to every worker serving the new endpoint.
// Serving is observed from outside: --connections keep-alive connections to a
// listener whose route picks the cluster by a header (cluster_header), each
// sending requests until the answer comes from the new backend port (the
// backend, nginx, answers with its port): back to back for 20 ms, then paced
// at 5% of the time waited (Client.until). Connections land on the
// workers by SO_REUSEPORT's hash: with 16 connections and 2 workers the chance
// that one worker has none is 2 * 2^-16. The polling takes CPU from the same
// two cores; --no-poll measures the ACK alone, undisturbed.
// CPU is read per thread from /proc/PID/task/*/stat (utime + stime), memory
// from /proc/PID/status (VmRSS).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { EdsBenchAdsServer, TYPE, any } from './lib/eds_ads_server.mjs';
import { freePort, startServer, stopServer, waitForPort } from './lib/procs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = dirname(here);
process.env.SLUICE_BINARY ??= join(repo, 'build/release/src/sluice');
const { startSluice } = await import('../test/integration/lib/sluice.mjs');
const { request } = await import('../test/integration/lib/http.mjs');

function parseArgs(argv) {
  const o = { clusters: [1000, 10000], updates: 100, updatesAll: null, full: 100, connections: 16, concurrency: 2,
    poll: true, results: null, wrap: [], zero: false };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--clusters') o.clusters = next().split(',').map(Number);
    else if (a === '--updates') o.updates = Number(next());
    else if (a === '--updates-all') o.updatesAll = Number(next());
    else if (a === '--full') o.full = Number(next());
    else if (a === '--callgrind-zero') o.zero = true;
    else if (a === '--render') o.render = next();
    else if (a === '--connections') o.connections = Number(next());
    else if (a === '--concurrency') o.concurrency = Number(next());
    else if (a === '--no-poll') o.poll = false;
    else if (a === '--results') o.results = next();
    else if (a === '--wrap') o.wrap = next().split(' ').filter(Boolean);
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.clusters.some((n) => !(n > 0)) || !(o.updates >= 0) || !(o.full >= 0) || !(o.connections > 0)) {
    throw new Error('--clusters, --connections: positive; --updates, --full: >= 0');
  }
  o.updatesAll ??= o.updates;
  return o;
}
const options = parseArgs(process.argv.slice(2));

// Deterministic picks (the same clusters in every run).
let seed = 0x5eed;
function randomIndex(n) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
}

const work = mkdtempSync(join(os.tmpdir(), 'sluice-xds-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// nginx answering with the port it was reached on, on two ports.
async function startBackend() {
  const prefix = join(work, 'nginx');
  for (const d of ['tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi']) mkdirSync(join(prefix, d), { recursive: true });
  const ports = [await freePort(), await freePort()];
  writeFileSync(join(prefix, 'nginx.conf'), `
daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  default_type text/plain;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
${ports.map((p) => `  server { listen 127.0.0.1:${p}; location / { return 200 "${p}"; } }`).join('\n')}
}
`);
  const child = startServer('nginx', ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf')]);
  for (const p of ports) await waitForPort(p, 'backend nginx', child);
  return { child, ports };
}

// One keep-alive HTTP/1.1 connection sending GETs with `x-cluster`, one at a
// time; get() resolves with the body of the answer.
class Client {
  static async connect(port) {
    const c = new Client();
    c.socket = net.connect(port, '127.0.0.1');
    c.socket.setNoDelay(true);
    await new Promise((resolve, reject) => {
      c.socket.once('connect', resolve);
      c.socket.once('error', reject);
    });
    c.buffer = '';
    c.socket.setEncoding('latin1');
    c.socket.on('data', (d) => {
      c.buffer += d;
      c.parse();
    });
    c.socket.on('error', (e) => c.reject?.(e));
    c.socket.on('close', () => c.reject?.(new Error('connection closed by sluice')));
    return c;
  }

  parse() {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0 || !this.resolve) return;
    const head = this.buffer.slice(0, end);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffer.length < end + 4 + length) return;
    const status = Number(head.slice(9, 12));
    const body = this.buffer.slice(end + 4, end + 4 + length);
    this.buffer = this.buffer.slice(end + 4 + length);
    const resolve = this.resolve;
    this.resolve = this.reject = null;
    resolve({ status, body });
  }

  get(cluster) {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.socket.write(`GET / HTTP/1.1\r\nhost: bench\r\nx-cluster: ${cluster}\r\n\r\n`);
    });
  }

  // Resolves with performance.now() at the first answer from `port`.
  // Back to back for the first 20 ms, then with a pause of 5% of the time
  // waited so far (at most 20 ms): the error stays within 5% + one round
  // trip, and an update that takes seconds is not slowed by a storm of polls.
  async until(cluster, port) {
    const start = performance.now();
    for (;;) {
      const { status, body } = await this.get(cluster);
      const now = performance.now();
      if (status === 200 && Number(body) === port) return now;
      const pause = Math.min(0.05 * (now - start), 20);
      if (pause >= 1) await new Promise((r) => setTimeout(r, pause));
    }
  }

  close() { this.socket.destroy(); }
}

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// CPU ms per thread group of `pid`: main (the thread whose id is the pid),
// workers, and the rest (gRPC's threads) together.
function threadCpu(pid) {
  const out = { main: 0, other: 0, all: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat;
    try { stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'); } catch { continue; }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
    if (Number(tid) === pid) out.main += ms;
    else out.other += ms;
    out.all += ms;
  }
  return out;
}
function mainUtimeMs(pid) {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  return (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[11]) * 1000) / clockTicks;
}
function rssKb(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] };
}

async function clusterManagerStats(sluice) {
  const port = Number(sluice.admin.split(':')[1]);
  const res = await request({ port, path: `/stats?format=json&filter=${encodeURIComponent('^cluster_manager\\.')}` });
  // Counters and gauges only: the histograms come as one entry without a name.
  return Object.fromEntries(JSON.parse(res.body).stats.filter((e) => e.name !== undefined).map((e) => [e.name, e.value]));
}

// sluice's own measure (cluster_manager.eds_propagation_us): from the response
// read off the gRPC stream to the last worker installing the new hosts, one
// value per EDS update that changed hosts. Its buckets (?histogram_buckets=
// detailed) are read before and after a phase; the difference is the phase's.
async function propagationBuckets(sluice) {
  const port = Number(sluice.admin.split(':')[1]);
  const path = `/stats?format=json&histogram_buckets=detailed&filter=${encodeURIComponent('^cluster_manager\\.eds_propagation_us$')}`;
  const res = await request({ port, path });
  const entry = JSON.parse(res.body).stats.find((e) => e.histograms);
  const totals = entry?.histograms.details.find((d) => d.name === 'cluster_manager.eds_propagation_us')?.totals ?? [];
  return new Map(totals.map((t) => [t.lower_bound, t]));
}
// Percentiles in ms of the values recorded between two reads, each value
// counted at its bucket's upper end (buckets are under 1.6% wide).
function bucketSummary(before, after) {
  const rows = [...after.values()]
    .map((t) => ({ upper: t.lower_bound + t.width - 1, count: t.count - (before.get(t.lower_bound)?.count ?? 0) }))
    .filter((r) => r.count > 0)
    .sort((a, b) => a.upper - b.upper);
  const total = rows.reduce((n, r) => n + r.count, 0);
  const at = (q) => {
    const rank = Math.max(1, Math.ceil((q / 100) * total));
    let seen = 0;
    for (const r of rows) if ((seen += r.count) >= rank) return r.upper / 1000;
    return NaN;
  };
  return { n: total, p50: total ? at(50) : NaN, p99: total ? at(99) : NaN, max: total ? rows[rows.length - 1].upper / 1000 : NaN };
}

async function runOne(n, backend) {
  const [portA, portB] = backend.ports;
  const name = (i) => `c${i}`;
  const assignment = (i, port) => ({
    name: name(i),
    any: any(TYPE.endpoint, {
      cluster_name: name(i),
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }],
    }),
  });
  // Every assignment encoded once per port.
  const onA = [];
  const onB = [];
  for (let i = 0; i < n; ++i) {
    onA.push(assignment(i, portA));
    onB.push(assignment(i, portB));
  }
  const ports = new Array(n).fill(portA);
  const current = () => ports.map((p, i) => (p === portA ? onA[i] : onB[i]));
  const clusters = [];
  for (let i = 0; i < n; ++i) {
    clusters.push({ name: name(i), any: any(TYPE.cluster, { name: name(i), type: 'EDS', connect_timeout: { seconds: 1 },
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } } }) });
  }
  const listener = {
    name: 'ingress',
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: 'ingress',
      route_config: { name: 'local', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster_header: 'x-cluster' } }] }] },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
    } }] }],
  };

  const ads = new EdsBenchAdsServer();
  await ads.start();
  // Started with nothing but the listener: the baseline for memory and CPU.
  ads.push(TYPE.cluster, 'c0', []);
  ads.push(TYPE.endpoint, 'e0', current());
  ads.push(TYPE.listener, 'l0', [{ name: 'ingress', any: any(TYPE.listener, listener) }]);
  const sluice = await startSluice({
    node: { id: 'bench', cluster: 'bench' },
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
      cds_config: { ads: {}, resource_api_version: 'V3' },
      lds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: { clusters: [{ name: 'xds', connect_timeout: '1s', http2_protocol_options: {},
      load_assignment: { cluster_name: 'xds', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: ads.port } } } }] }] } }] },
  }, { concurrency: options.concurrency, wrap: options.wrap });
  const pid = sluice.pid;
  await ads.waitForRequest((r) => r.type_url === TYPE.listener && r.version_info === 'l0');
  await sluice.refreshListeners();
  const idle = { rss: rssKb(pid), cpu: threadCpu(pid) };

  // Load: N clusters, then their assignments (the server answers the EDS request).
  let from = ads.requests.length;
  const loadStart = performance.now();
  ads.push(TYPE.cluster, 'c1', clusters);
  await ads.waitForRequest((r) => r.type_url === TYPE.cluster && r.version_info === 'c1', from);
  await ads.waitForRequest((r) => r.type_url === TYPE.endpoint && r.version_info === 'e0' && (r.resource_names ?? []).length === n, from);
  const loadMs = performance.now() - loadStart;
  const cm = await clusterManagerStats(sluice);
  if (cm['cluster_manager.active_clusters'] !== n + 1 || cm['cluster_manager.warming_clusters'] !== 0) {
    throw new Error(`after the load: ${JSON.stringify(cm)}`);
  }
  const loaded = { rss: rssKb(pid), cpu: threadCpu(pid) };
  // Under --wrap 'valgrind --tool=callgrind ...': count the updates only.
  if (options.zero) spawnSync('callgrind_control', ['-z', String(pid)], { stdio: 'inherit' });

  const clients = [];
  if (options.poll) {
    for (let k = 0; k < options.connections; ++k) clients.push(await Client.connect(sluice.port('ingress')));
    // Every connection reaches its cluster before the clock starts.
    await Promise.all(clients.map((c) => c.until(name(0), portA)));
  }

  let version = 0;
  // One update: the clusters `moved` go to the other port; `shape` 'one' sends
  // those assignments alone, 'all' the whole state. `targets[k]` is the
  // cluster connection k polls.
  async function update(moved, shape, targets) {
    for (const i of moved) ports[i] = ports[i] === portA ? portB : portA;
    const v = `e${++version}`;
    const state = current();
    const start = ads.requests.length;
    const nonce = shape === 'one'
      ? (ads.state.set(TYPE.endpoint, { version: v, resources: state }), ads.sendResources(TYPE.endpoint, v, moved.map((i) => state[i])))
      : ads.push(TYPE.endpoint, v, state);
    let ackAt;
    const acked = ads.waitForRequest((r) => r.type_url === TYPE.endpoint && r.response_nonce === nonce, start)
      .then((r) => { ackAt = performance.now(); return r; });
    const served = options.poll ? Promise.all(clients.map((c, k) => c.until(name(targets[k]), ports[targets[k]]))) : null;
    const sentAt = await ads.sentAt(nonce);
    const ack = await acked;
    if (ack.version_info !== v || ack.error_detail) throw new Error(`update ${v} not ACKed: ${JSON.stringify(ack.error_detail)}`);
    const result = { wrote: ads.wrote.get(nonce), sent: sentAt, ack: ackAt - sentAt };
    if (served) result.served = Math.max(...(await served)) - sentAt;
    return result;
  }

  const phases = {};
  async function phase(label, count, next) {
    const buckets0 = await propagationBuckets(sluice);  // read first: the render's CPU is not the updates'
    const before = { cpu: threadCpu(pid), utime: mainUtimeMs(pid), buckets: buckets0 };
    const runs = [];
    for (let u = 0; u < count; ++u) runs.push(await next());
    const after = { cpu: threadCpu(pid), utime: mainUtimeMs(pid) };
    // The last update's value is recorded when the last worker has it: read until it is there.
    let buckets = await propagationBuckets(sluice);
    while (count && bucketSummary(before.buckets, buckets).n < count) buckets = await propagationBuckets(sluice);
    phases[label] = {
      count,
      ack: summary(runs.map((r) => r.ack)),
      served: options.poll ? summary(runs.map((r) => r.served)) : null,
      applied: bucketSummary(before.buckets, buckets),
      // The grpc-js write itself (serialising the response): not counted in the figures.
      write: summary(runs.map((r) => r.sent - r.wrote)),
      mainCpuMs: count ? (after.cpu.main - before.cpu.main) / count : NaN,
      mainUtimeMs: count ? (after.utime - before.utime) / count : NaN,
      otherCpuMs: count ? (after.cpu.other - before.cpu.other) / count : NaN,
    };
    console.error(`  N=${n} ${label}: ack p50 ${phases[label].ack.p50.toFixed(2)} p99 ${phases[label].ack.p99.toFixed(2)} ms` +
      `, applied p50 ${f(phases[label].applied.p50)} p99 ${f(phases[label].applied.p99)} ms` +
      (options.poll ? `, served p50 ${phases[label].served.p50.toFixed(2)} p99 ${phases[label].served.p99.toFixed(2)} ms` : '') +
      `, main thread ${phases[label].mainCpuMs.toFixed(2)} ms CPU per update`);
  }
  const single = (shape) => () => {
    const i = randomIndex(n);
    return update([i], shape, clients.map(() => i));
  };
  const everyone = [...Array(n).keys()];
  // Each connection polls its own cluster, spread over the response, the last one included.
  const spread = clients.map((_, k) => Math.floor(((k + 1) * n) / clients.length) - 1);
  await phase('single, 1 assignment per response', options.updates, single('one'));
  await phase(`single, all ${n} assignments per response`, options.updatesAll, single('all'));
  await phase(`full, all ${n} assignments changed`, options.full, () => update(everyone, 'all', spread));

  const end = { rss: rssKb(pid), hwm: Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) };
  for (const c of clients) c.close();
  // The profile of the updates, before the shutdown's frees join it.
  if (options.zero) spawnSync('callgrind_control', ['-d', String(pid)], { stdio: 'inherit' });
  const code = await sluice.stop();
  ads.stop();
  if (code !== 0 && !options.wrap.length) throw new Error(`sluice exited with ${code}:\n${sluice.stderr.slice(-3000)}`);
  return {
    n,
    load: {
      ms: loadMs,
      mainCpuMsPerCluster: (loaded.cpu.main - idle.cpu.main) / n,
      allCpuMsPerCluster: (loaded.cpu.all - idle.cpu.all) / n,
      rssKbPerCluster: ((loaded.rss - idle.rss) * 1.024) / n,  // KiB -> KB (1,000 bytes)
      idleRssKib: idle.rss,
      loadedRssKib: loaded.rss,
    },
    phases,
    end,
  };
}

const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');

function markdown(results) {
  const lines = [];
  const date = new Date().toISOString().slice(0, 10);
  lines.push(options.poll ? `## xDS: EDS at scale (issue 13; ${date})` : `### The same without polling: the ACK alone (${date})`, '');
  if (options.poll) {
    lines.push(`Produced by \`make bench-xds\` (bench/xds_eds.mjs): one sluice (--concurrency ${options.concurrency}) configured wholly by ADS ` +
      '(state of the world), N EDS clusters of one endpoint each, a route choosing the cluster by header. ' +
      `${options.updates} single-cluster updates with one assignment per response, ${options.updatesAll} with all N, ` +
      `${options.full} full-state pushes. **applied** is sluice's own histogram \`cluster_manager.eds_propagation_us\`: ` +
      'from the response returned by the gRPC stream\'s Read to the last worker installing the new hosts (its buckets diffed per ' +
      'phase; no polling; the kernel and gRPC\'s own read and parse of the message before Read returns are not in it). ' +
      'The other times are in ms from the response written to ' +
      'the socket (grpc-js write callback): **ack** until sluice\'s ACK of it arrives (decoded, validated, applied on the main thread, ' +
      'posted to the workers); **served** until every worker serves the new endpoint ' +
      `(${options.connections} keep-alive connections polling through the listener until each gets the new backend: back to back ` +
      'for 20 ms, then paced at 5% of the time waited). The polling competes with sluice for the 2 cores; the run without it ' +
      '(below) gives the ACK alone. The machine is shared: other builds ran meanwhile.', '');
  } else {
    lines.push(`\`node bench/xds_eds.mjs --no-poll\`: the same kinds of update (${options.updates} single with one assignment per ` +
      `response, ${options.updatesAll} with all N, ${options.full} full pushes) with nothing polling: **applied** (sluice's ` +
      'histogram, as above) and the time to the ACK.', '');
  }
  const served = options.poll ? ' served p50 | served p99 |' : '';
  lines.push(`| N | update | applied p50 | applied p99 | ack p50 | ack p99 |${served} main-thread CPU ms per update |`);
  lines.push(`| ---: | --- | ---: | ---: | ---: | ---: |${options.poll ? ' ---: | ---: |' : ''} ---: |`);
  for (const r of results) {
    for (const [label, p] of Object.entries(r.phases).filter(([, x]) => x.count > 0)) {
      const cells = options.poll ? ` ${f(p.served?.p50)} | ${f(p.served?.p99)} |` : '';
      lines.push(`| ${r.n.toLocaleString('en')} | ${label} | ${f(p.applied?.p50)} | ${f(p.applied?.p99)} | ${f(p.ack.p50)} | ` +
        `${f(p.ack.p99)} |${cells} ${f(p.mainCpuMs)} |`);
    }
  }
  lines.push('', '| N | load: CDS + EDS, s | main-thread CPU ms per cluster (load) | all threads CPU ms per cluster (load) | main-thread CPU ms per cluster (full push) | RSS KB per cluster | RSS MiB idle → loaded → end (peak) |');
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of results) {
    const full = Object.entries(r.phases).find(([k]) => k.startsWith('full'))?.[1];
    lines.push(`| ${r.n.toLocaleString('en')} | ${f(r.load.ms / 1000)} | ${f(r.load.mainCpuMsPerCluster, 3)} | ${f(r.load.allCpuMsPerCluster, 3)} | ` +
      `${f(full ? full.mainCpuMs / r.n : NaN, 4)} | ${f(r.load.rssKbPerCluster)} | ` +
      `${f(r.load.idleRssKib / 1024, 1)} → ${f(r.load.loadedRssKib / 1024, 1)} → ${f(r.end.rss / 1024, 1)} (${f(r.end.hwm / 1024, 1)}) |`);
  }
  const big = results.find((r) => r.n === 10000);
  if (big) {
    // sluice's own measure, from the response read to the last worker serving it.
    const p99 = (p) => (p && p.count ? p.applied.p99 : NaN);
    const one = p99(big.phases['single, 1 assignment per response']);
    const all = p99(big.phases['single, all 10000 assignments per response']);
    const verdict = (x) => (Number.isFinite(x) ? (x < 10 ? '**met**' : '**not met**') : 'not measured');
    lines.push('', `Goal (issue 13): p99 < 10 ms for a single-cluster update at 10,000 clusters. Applied p99: ` +
      `${f(one)} ms with one assignment per response (${verdict(one)}), ${f(all)} ms with all 10,000 (${verdict(all)}).`);
  }
  return lines.join('\n');
}

let results = [];
if (options.render) {
  // The figures of an earlier run (the JSON it printed), written again.
  const text = readFileSync(options.render, 'utf8');
  results = JSON.parse(text.slice(text.lastIndexOf('<!--\n[') + 5, text.lastIndexOf('\n-->')));
} else {
  const backend = await startBackend();
  for (const n of options.clusters) {
    console.error(`xds_eds: ${n} clusters`);
    results.push(await runOne(n, backend));
  }
  await stopServer(backend.child);
}
const text = markdown(results);
console.log(text);
console.log('\n<!--\n' + JSON.stringify(results, null, 1) + '\n-->');
if (options.results) {
  // One section per kind of run: with polling (served and ack) and without (ack alone).
  const tag = options.poll ? 'xds_eds' : 'xds_eds no-poll';
  const begin = `<!-- ${tag}: begin -->`;
  const stop = `<!-- ${tag}: end -->`;
  let file = readFileSync(options.results, 'utf8');
  const section = `${begin}\n${text}\n${stop}`;
  const a = file.indexOf(begin);
  const b = file.indexOf(stop);
  file = a >= 0 && b > a ? file.slice(0, a) + section + file.slice(b + stop.length) : `${file.trimEnd()}\n\n${section}\n`;
  writeFileSync(options.results, file);
  console.error(`xds_eds: wrote ${options.results}`);
}
process.exit(0);
