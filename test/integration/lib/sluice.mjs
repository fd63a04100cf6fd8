// Starts the real sluice binary on a generated config and tells the test its
// listener and admin addresses. Every port is 0: the kernel picks, sluice
// reports (admin /listeners, --admin-address-path).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { request } from './http.mjs';

export const SLUICE = process.env.SLUICE_BINARY;
if (!SLUICE) throw new Error('SLUICE_BINARY is not set (run through ctest)');

// A listener with one route table, in Envoy's YAML shape, as a JS object.
export function httpListener({ name = 'ingress', routeConfig, hcm = {} }) {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          stat_prefix: name,
          route_config: routeConfig,
          http_filters: [{
            name: 'envoy.filters.http.router',
            typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
          }],
          ...hcm,
        },
      }],
    }],
  };
}

// A STATIC cluster over `ports` on 127.0.0.1.
export function staticCluster(name, ports, extra = {}) {
  return {
    name,
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [{
        lb_endpoints: ports.map((p) => {
          const port = typeof p === 'object' ? p.port : p;
          const weight = typeof p === 'object' ? p.weight : undefined;
          return {
            endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
            ...(weight ? { load_balancing_weight: weight } : {}),
          };
        }),
      }],
    },
    ...extra,
  };
}

// One virtual host for every domain with `routes`.
export function routes(list, extra = {}) {
  return { virtual_hosts: [{ name: 'all', domains: ['*'], routes: list, ...extra }] };
}

// Whether startSluice's `etc` works here: a private mount namespace and a
// bind mount over /etc/hosts (root, or a user namespace that allows it).
export function canSwapEtc() {
  const run = spawnSync('unshare', ['--mount', '--', 'sh', '-c', 'mount --bind /etc/hosts /etc/hosts'],
    { stdio: 'ignore' });
  return run.status === 0;
}

export class Sluice {
  constructor(child, dir, admin, listeners) {
    this.child = child;
    this.dir = dir;
    this.admin = admin;
    this.listeners = listeners;
    this.stderr = '';
  }

  // The port of listener `name` (the first one by default).
  port(name) {
    const l = name ? this.listeners.find((x) => x.name === name) : this.listeners[0];
    if (!l) throw new Error(`no listener ${name}`);
    return l.local_address.socket_address.port_value;
  }

  get pid() { return this.child.pid; }

  // Resolves when sluice's log (stderr) matches `pattern` after this call.
  waitForLog(pattern) {
    const from = this.stderr.length;
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.stderr.slice(from).match(pattern);
        if (match) {
          this.child.stderr.off('data', check);
          this.child.off('exit', onExit);
          resolve(match);
        }
      };
      const onExit = (code) => reject(new Error(`sluice exited with ${code} while waiting for ${pattern}`));
      this.child.stderr.on('data', check);
      this.child.on('exit', onExit);
    });
  }

  // Stat `name` from the admin /stats (JSON); undefined if it does not exist.
  async stat(name) {
    const res = await request({ port: Number(this.admin.split(':')[1]), path: '/stats?format=json' });
    if (res.status !== 200) throw new Error(`/stats answered ${res.status}`);
    return JSON.parse(res.body).stats.find((e) => e.name === name)?.value;
  }

  // The current listeners, from the admin API.
  async refreshListeners() {
    const res = await request({ port: Number(this.admin.split(':')[1]), path: '/listeners?format=json' });
    this.listeners = JSON.parse(res.body).listener_statuses;
    return this.listeners;
  }

  // Peak and current RSS in KiB, from /proc.
  memory() {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const field = (n) => Number(status.match(new RegExp(`${n}:\\s+(\\d+)`))[1]);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  }

  // SIGTERM and wait for the exit; returns the exit code.
  async stop(signal = 'SIGTERM') {
    // Already gone (by a signal too: then exitCode stays null and 'exit' will not come again).
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode ?? this.child.signalCode;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    const [code] = await exited;
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}

// Starts sluice with `bootstrap` (an object; written as JSON, which sluice reads as YAML).
// With `etc` ({hosts: file, 'resolv.conf': file}), sluice runs in a mount
// namespace of its own where those files are /etc/hosts and /etc/resolv.conf
// (bind mounts: rewrite them in place, not by rename), so a test can change
// what a name resolves to (needs root; see canSwapEtc()).
// `stdout`: where sluice's stdout goes (a stream with a descriptor, e.g. another
// child's stdin); by default a pipe that is read and discarded.
// `wrap` is a command that execs its arguments (e.g. ['prlimit', '--nofile=64:64', '--']),
// so child.pid stays sluice's.
export async function startSluice(bootstrap, { args = [], concurrency = 2, etc, stdout = 'pipe', wrap = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-it-'));
  const config = join(dir, 'bootstrap.json');
  const full = { admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } }, ...bootstrap };
  writeFileSync(config, JSON.stringify(full, null, 2));
  const addressFile = join(dir, 'admin.address');
  const argv = [...wrap, SLUICE, '-c', config, '--concurrency', String(concurrency), '--admin-address-path', addressFile,
    ...args];
  // unshare(1) execs its command without forking, so child.pid stays sluice's.
  let [command, ...rest] = argv;
  if (etc) {
    const mounts = Object.entries(etc).map(([name, file]) => `mount --bind '${file}' '/etc/${name}'`);
    [command, ...rest] = ['unshare', '--mount', '--', 'sh', '-c', `${mounts.join(' && ')} && exec "$@"`, 'sh', ...argv];
  }
  const child = spawn(command, rest, { stdio: ['ignore', stdout, 'pipe'] });
  // One collector from the first byte on: a stream in flowing mode drops
  // what it emits while no 'data' listener is attached.
  const log = { stderr: '' };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => { log.stderr += c; });
  child.stdout?.resume();
  // Ready once sluice says so (its sockets listen before that line), or dead.
  await new Promise((resolve, reject) => {
    const onData = () => {
      if (!/sluice: started/.test(log.stderr)) return;
      child.stderr.off('data', onData);
      child.off('exit', onExit);
      resolve();
    };
    const onExit = (code) => reject(new Error(`sluice exited with ${code}:\n${log.stderr}`));
    child.stderr.on('data', onData);
    child.on('exit', onExit);
  });
  const admin = readFileSync(addressFile, 'utf8').trim();
  const res = await request({ port: Number(admin.split(':')[1]), path: '/listeners?format=json' });
  const s = new Sluice(child, dir, admin, JSON.parse(res.body).listener_statuses);
  Object.defineProperty(s, 'stderr', { get: () => log.stderr, set: (v) => { log.stderr = v; } });
  return s;
}
