// Starts the real sluice-control on a registry file and tells the test its
// ADS and HTTP ports (it prints them once bound; every port is 0).
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from './http.mjs';
import { startSluice, staticCluster } from './sluice.mjs';

export const CONTROL = process.env.SLUICE_CONTROL_BINARY
  ?? (process.env.SLUICE_BINARY ? join(process.env.SLUICE_BINARY, '..', 'sluice-control') : undefined);
if (!CONTROL) throw new Error('SLUICE_CONTROL_BINARY is not set (run through ctest)');

// A port free now (for a registry's gateway, which cannot say 0).
export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

export class Control {
  constructor(child, dir, xds, http) {
    this.child = child;
    this.dir = dir;
    this.xdsPort = xds;
    this.httpPort = http;
    this.stderr = '';
  }

  get registryPath() { return join(this.dir, 'registry.yaml'); }

  // Replaces the registry file by a rename, as the file source expects.
  writeRegistry(text) {
    const tmp = join(this.dir, `registry.${Date.now()}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, this.registryPath);
  }

  async get(path) { return this.call('GET', path); }

  async call(method, path, body) {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers = text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    const res = await request({ port: this.httpPort, path, method, headers, body: text });
    return { status: res.status, body: res.headers['content-type']?.startsWith('application/json') ? JSON.parse(res.body) : res.body };
  }

  // SIGKILL: a replica that dies.
  async kill() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }

  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const [code] = await exited;
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}

// `registry` is the file's text, or `{ spec: 'etcd://...' }` for another store.
export async function startControl(registry, { args = [], xdsPort = 0 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-control-it-'));
  let spec = registry?.spec;
  if (!spec) {
    writeFileSync(join(dir, 'registry.yaml'), registry);
    spec = `file:${join(dir, 'registry.yaml')}`;
  }
  const child = spawn(CONTROL, ['serve', '--registry', spec,
    '--xds-listen', `127.0.0.1:${xdsPort}`, '--http-listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => { stderr += c; });
  child.stdout.setEncoding('utf8');
  const ports = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      stdout += chunk;
      const xds = stdout.match(/xds listening on [^\s]+:(\d+)/);
      const http = stdout.match(/http listening on [^\s]+:(\d+)/);
      if (!xds || !http) return;
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      resolve([Number(xds[1]), Number(http[1])]);
    };
    const onExit = (code) => reject(new Error(`sluice-control exited with ${code}:\n${stderr}`));
    child.stdout.on('data', onData);
    child.on('exit', onExit);
  });
  child.stdout.resume();
  const control = new Control(child, dir, ports[0], ports[1]);
  child.stderr.on('data', (c) => { control.stderr += c; });
  control.stderr = stderr;
  return control;
}

// Polls `check` (sync or async) until it is true; `what` names it when
// `ms` passes first.
export async function until(check, what = 'condition', ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// The first stream of node `id` on `control`, as /v1/nodes reports it.
export async function nodeStream(control, id) {
  const { status, body } = await control.get(`/v1/nodes/${id}`);
  return status === 200 ? body.streams?.[0] : undefined;
}

// True once every type of node `id`'s stream on `control` is SYNCED.
export async function nodeSynced(control, id) {
  const stream = await nodeStream(control, id);
  return stream !== undefined && Object.values(stream.types).every((t) => t.state === 'SYNCED');
}

// A sluice edge node fed by the control planes on `xdsPorts` (one static
// cluster 'xds' over them): CDS, LDS and the zone_weights RTDS layer over
// ADS, `api` GRPC or DELTA_GRPC, node `id` in cluster `cluster` and `zone`;
// with `loadStats`, load reports (cluster_manager.load_stats_config) to the
// same cluster; `node` adds bootstrap node fields (e.g. metadata).
export async function startEdge(xdsPorts, { id = 'edge-1', cluster = 'edge', zone = 'z1', api = 'GRPC', loadStats = false, concurrency = 2, node } = {}) {
  const lrs = { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] };
  return startSluice({
    ...(node ? { node } : {}),
    ...(loadStats ? { cluster_manager: { load_stats_config: lrs } } : {}),
    layered_runtime: { layers: [{ name: 'rtds', rtds_layer: { name: 'zone_weights', rtds_config: { ads: {}, resource_api_version: 'V3' } } }] },
    dynamic_resources: {
      ads_config: { api_type: api, transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
      cds_config: { ads: {}, resource_api_version: 'V3' },
      lds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: { clusters: [staticCluster('xds', xdsPorts, { http2_protocol_options: {} })] },
  }, { args: ['--service-cluster', cluster, '--service-node', id, '--service-zone', zone], concurrency });
}

// A registry of `zones` with one service `echo` over `backends` (each with
// .port and .zone) and a gateway `edge<i+1>` on each of `gatewayPorts`.
export function zoneRegistry(zones, backends, gatewayPorts) {
  return `zones: [${zones.join(', ')}]
services:
  - name: echo
    instances:
${backends.map((b) => `      - { address: 127.0.0.1, port: ${b.port}, zone: ${b.zone} }`).join('\n')}
gateways:
${gatewayPorts.map((port, i) => `  - name: edge${i + 1}
    port: ${port}
    address: 127.0.0.1
    virtual_hosts: [ { domains: ["*"], routes: [ { prefix: "/", service: echo } ] } ]`).join('\n')}
`;
}
