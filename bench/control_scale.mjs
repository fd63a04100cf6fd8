// sluice-control at scale (issue 14, point 8): N simulated ADS clients, each
// an edge-gateway node (node.cluster "edge") subscribing to CDS, EDS, LDS,
// RDS and RTDS and ACKing every response, state of the world or delta,
// against the real sluice-control on a file registry.
//
//   node bench/control_scale.mjs [--clients 1000,5000] [--protocols sotw,delta] [--changes 20]
//                                [--channels 16] [--debounce 100ms]
//
// (`make bench-control`.) Streams share --channels HTTP/2 connections. Per
// protocol and N:
// - connect: all N streams opened at once until every node is SYNCED on every
//   type (sluice_control_synced_proxies, /metrics); sluice-control's CPU
//   seconds for it and its RSS before and after: RSS per connected proxy;
// - --changes registry changes, each one endpoint added to echo's z1 (the
//   registry file replaced by a rename, as an operator's tool does): the time
//   from the rename to the last of the N clients ACKing the EDS response it
//   brought (the client-side write of the ACK; the debounce, --debounce,
//   included), p50 and p99 over the changes; bytes of xDS responses received
//   by all clients per change; sluice-control's CPU seconds per change;
// - a reconnect storm: every stream cancelled, then all N reopened at once
//   (delta ones with initial_resource_versions, as sluice and Envoy do): the
//   time until all N are SYNCED again.
// The clients run in this one Node process on the same 2 cores as
// sluice-control, so the figures are an upper bound of the server's share.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = dirname(here);
process.env.SLUICE_CONTROL_BINARY ??= join(repo, 'build/release/src/sluice-control');
const { startControl } = await import('../test/integration/lib/control.mjs');
const require = createRequire(join(repo, 'test/integration/package.json'));
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const CLIENTS = opt('clients', '1000,5000').split(',').map(Number);
const PROTOCOLS = opt('protocols', 'sotw,delta').split(',');
const CHANGES = Number(opt('changes', '20'));
const CHANNELS = Number(opt('channels', '16'));
const DEBOUNCE = opt('debounce', '100ms');

const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
includeDirs.push(dirname(require.resolve('protobufjs/package.json')));
const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const d of includeDirs) if (existsSync(join(d, target))) return join(d, target);
  return target;
};
root.loadSync(['envoy/service/discovery/v3/discovery.proto'], { keepCase: true });
const Req = root.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
const Resp = root.lookupType('envoy.service.discovery.v3.DiscoveryResponse');
const DReq = root.lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
const DResp = root.lookupType('envoy.service.discovery.v3.DeltaDiscoveryResponse');

const T = (m) => `type.googleapis.com/${m}`;
const ZONES = ['z1', 'z2', 'z3'];
const SERVICES = ['echo', 'api'];
const SUBS = [
  [T('envoy.config.cluster.v3.Cluster'), []],
  [T('envoy.config.endpoint.v3.ClusterLoadAssignment'), SERVICES.flatMap((s) => ZONES.map((z) => `${s}.${z}`))],
  [T('envoy.config.listener.v3.Listener'), []],
  [T('envoy.config.route.v3.RouteConfiguration'), ['edge']],
  [T('envoy.service.runtime.v3.Runtime'), ['zone_weights']],
];
const EDS = SUBS[1][0];

function registry(extra) {
  const inst = [];
  for (const s of SERVICES) {
    for (const [zi, z] of ZONES.entries()) inst.push([s, `{ address: 10.0.${zi}.1, port: 8080, zone: ${z} }`]);
  }
  for (let i = 0; i < extra; i++) inst.push(['echo', `{ address: 10.1.${i >> 8}.${i & 255}, port: 8080, zone: z1 }`]);
  return `zones: [${ZONES.join(', ')}]
services:
${SERVICES.map((s) => `  - name: ${s}\n    instances:\n${inst.filter(([n]) => n === s).map(([, t]) => `      - ${t}`).join('\n')}`).join('\n')}
gateways:
  - name: edge
    port: 10000
    virtual_hosts:
      - domains: ["*"]
        routes: [ { prefix: /api, service: api }, { prefix: /, service: echo } ]
`;
}

const METHOD = {
  sotw: ['/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources', Req, Resp],
  delta: ['/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources', DReq, DResp],
};

// One simulated proxy: one ADS stream; ACKs every response at once.
class Proxy {
  constructor(bench, i) {
    this.bench = bench;
    this.i = i;
    this.versions = new Map(SUBS.map(([t]) => [t, new Map()]));  // delta: what it has
  }
  open(channel) {
    const [path, ReqT, RespT] = METHOD[this.bench.protocol];
    this.call = channel.makeBidiStreamRequest(path, (m) => Buffer.from(ReqT.encode(m).finish()), (b) => {
      this.bench.bytes += b.length;
      return RespT.decode(b);
    }, new grpc.Metadata(), {});
    this.call.on('data', (r) => this.onResponse(r));
    this.call.on('error', () => {});
    const node = { id: `bench-${this.i}`, cluster: 'edge', locality: { zone: ZONES[this.i % 3] } };
    for (const [i, [type, names]] of SUBS.entries()) {
      if (this.bench.protocol === 'sotw') {
        this.call.write({ node: i === 0 ? node : undefined, type_url: type, resource_names: names });
      } else {
        const initial = {};
        for (const [n, v] of this.versions.get(type)) initial[n] = v;
        this.call.write({ node: i === 0 ? node : undefined, type_url: type, resource_names_subscribe: names,
          initial_resource_versions: initial });
      }
    }
  }
  onResponse(r) {
    if (this.bench.protocol === 'sotw') {
      const names = SUBS.find(([t]) => t === r.type_url)[1];
      this.call.write({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: names });
    } else {
      const have = this.versions.get(r.type_url);
      for (const res of r.resources) have.set(res.name, res.version);
      for (const n of r.removed_resources) have.delete(n);
      this.call.write({ type_url: r.type_url, response_nonce: r.nonce });
    }
    if (r.type_url === EDS) this.bench.onEds(this);
  }
  close() { this.call.cancel(); }
}

function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;  // utime + stime, clock ticks of 10 ms
}
function rssKb(pid) {
  return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

async function metric(control, name) {
  const text = (await control.get('/metrics')).body;
  return Number(text.match(new RegExp(`^sluice_control_${name} (\\d+)$`, 'm'))[1]);
}
async function until(check, ms = 20) {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, ms));
  }
}

async function run(protocol, n) {
  const control = await startControl(registry(0), { args: ['--debounce', DEBOUNCE] });
  const pid = control.child.pid;
  const bench = { protocol, bytes: 0, waiting: null, onEds: (p) => bench.waiting?.(p) };
  const channels = Array.from({ length: CHANNELS }, (_, c) => new grpc.Client(`127.0.0.1:${control.xdsPort}`,
    grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc-bench.channel': c }));
  const proxies = Array.from({ length: n }, (_, i) => new Proxy(bench, i));
  const rssBase = rssKb(pid);
  let cpu0 = cpuSeconds(pid);
  let t0 = performance.now();
  for (const p of proxies) p.open(channels[p.i % CHANNELS]);
  await until(async () => (await metric(control, 'synced_proxies')) === n, 50);
  const connect = { ms: performance.now() - t0, cpu: cpuSeconds(pid) - cpu0, bytes: bench.bytes };
  const rssConnected = rssKb(pid);

  const changes = [];
  cpu0 = cpuSeconds(pid);
  for (let k = 1; k <= CHANGES; k++) {
    bench.bytes = 0;
    const seen = new Set();
    let last = 0;
    const done = new Promise((resolve) => {
      bench.waiting = (p) => {
        if (seen.has(p.i)) return;
        seen.add(p.i);
        last = performance.now();
        if (seen.size === n) resolve();
      };
    });
    t0 = performance.now();
    control.writeRegistry(registry(k));
    await done;
    bench.waiting = null;
    changes.push({ ms: last - t0, bytes: bench.bytes });
    await until(async () => (await metric(control, 'synced_proxies')) === n, 20);
  }
  const changeCpu = (cpuSeconds(pid) - cpu0) / CHANGES;

  // The reconnect storm.
  for (const p of proxies) p.close();
  await until(async () => (await metric(control, 'connected_proxies')) === 0, 50);
  bench.bytes = 0;
  cpu0 = cpuSeconds(pid);
  t0 = performance.now();
  for (const p of proxies) p.open(channels[p.i % CHANNELS]);
  await until(async () => (await metric(control, 'synced_proxies')) === n, 20);
  const storm = { ms: performance.now() - t0, cpu: cpuSeconds(pid) - cpu0, bytes: bench.bytes };
  const snapshots = await metric(control, 'snapshots');
  const rssEnd = rssKb(pid);
  for (const p of proxies) p.close();
  for (const c of channels) c.close();
  await control.stop();
  const ms = changes.map((c) => c.ms);
  const result = {
    protocol, clients: n, connect_ms: connect.ms, connect_cpu_s: connect.cpu, connect_bytes: connect.bytes,
    change_p50_ms: pct(ms, 50), change_p99_ms: pct(ms, 99), change_max_ms: Math.max(...ms),
    bytes_per_change: pct(changes.map((c) => c.bytes), 50), cpu_s_per_change: changeCpu,
    rss_base_kb: rssBase, rss_connected_kb: rssConnected, rss_end_kb: rssEnd,
    rss_per_proxy_kb: (rssConnected - rssBase) / n, snapshots,
    storm_ms: storm.ms, storm_cpu_s: storm.cpu, storm_bytes: storm.bytes,
  };
  console.log(JSON.stringify(result));
  return result;
}

const results = [];
for (const n of CLIENTS) for (const protocol of PROTOCOLS) results.push(await run(protocol, n));
const f = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log('\n| clients | protocol | change → all ACKed p50 / p99 (ms) | bytes per change | CPU s per change | connect (ms, CPU s) | RSS base → connected (MB) | RSS per proxy (KB) | storm until all SYNCED (ms, CPU s, bytes) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${f(r.clients)} | ${r.protocol} | ${f(r.change_p50_ms)} / ${f(r.change_p99_ms)} | ${f(r.bytes_per_change)} | ${f(r.cpu_s_per_change, 2)} | ${f(r.connect_ms)}, ${f(r.connect_cpu_s, 2)} | ${f(r.rss_base_kb / 1024, 1)} → ${f(r.rss_connected_kb / 1024, 1)} | ${f(r.rss_per_proxy_kb, 1)} | ${f(r.storm_ms)}, ${f(r.storm_cpu_s, 2)}, ${f(r.storm_bytes)} |`);
}
