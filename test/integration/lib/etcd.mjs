// A real etcd cluster on loopback (Debian's etcd-server, installed by
// scripts/install-deps.sh), and its JSON gateway for the tests' own reads and
// writes. etcd cannot listen on port 0: each member's ports are taken free
// (bound, then released) just before it starts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from './http.mjs';
import { freePort } from './control.mjs';

export const ETCD = process.env.ETCD_BINARY ?? '/usr/bin/etcd';

const b64 = (s) => Buffer.from(s).toString('base64');

export class EtcdCluster {
  constructor(members, dir) {
    this.members = members;
    this.dir = dir;
  }

  // "127.0.0.1:P1,127.0.0.1:P2,..." in the order given (indexes into members).
  endpoints(order = this.members.map((_, i) => i)) {
    return order.map((i) => `127.0.0.1:${this.members[i].clientPort}`).join(',');
  }

  alive() { return this.members.filter((m) => m.child.exitCode === null && m.child.signalCode === null && !m.paused); }

  // A gateway call on the first live member.
  async call(path, body) {
    let last;
    for (const m of this.alive()) {
      try {
        const res = await request({ port: m.clientPort, path, method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
        if (res.status === 200) return JSON.parse(res.body);
        last = new Error(`${path}: HTTP ${res.status} ${res.body}`);
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  async put(key, value) {
    const r = await this.call('/v3/kv/put', { key: b64(key), value: b64(typeof value === 'string' ? value : JSON.stringify(value)) });
    return Number(r.header.revision);
  }

  async del(key) { return Number((await this.call('/v3/kv/deleterange', { key: b64(key) })).header.revision); }

  async get(key) {
    const r = await this.call('/v3/kv/range', { key: b64(key) });
    return r.kvs?.length ? Buffer.from(r.kvs[0].value ?? '', 'base64').toString() : undefined;
  }

  async compact(revision) { await this.call('/v3/kv/compaction', { revision: String(revision), physical: true }); }

  // SIGKILL: a member that dies, not one that leaves.
  async kill(index) {
    const m = this.members[index];
    if (m.child.exitCode !== null || m.child.signalCode !== null) return;
    const exited = once(m.child, 'exit');
    m.child.kill('SIGKILL');
    await exited;
  }

  // A killed member started again on its data directory (it rejoins); resolves once it is healthy.
  async restart(index) {
    const m = this.members[index];
    spawnMember(m);
    await untilHealthy(m);
  }

  // SIGSTOP: a member that still accepts connections (the kernel does) but
  // answers nothing, as a hung or partitioned one; resume() undoes it.
  pause(index) { this.members[index].child.kill('SIGSTOP'); this.members[index].paused = true; }

  resume(index) { this.members[index].child.kill('SIGCONT'); this.members[index].paused = false; }

  // The member whose client address is `endpoint` ("127.0.0.1:PORT"), as /v1/registry's store.member says.
  indexOf(endpoint) { return this.members.findIndex((m) => `127.0.0.1:${m.clientPort}` === endpoint); }

  async stop() {
    for (let i = 0; i < this.members.length; i++) {
      if (this.members[i].paused) this.resume(i);
      await this.kill(i);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function healthy(port) {
  try {
    const res = await request({ port, path: '/health' });
    return res.status === 200 && JSON.parse(res.body).health === 'true';
  } catch {
    return false;
  }
}

export async function startEtcdCluster(size = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-etcd-it-'));
  const members = [];
  for (let i = 0; i < size; i++) members.push({ name: `m${i}`, clientPort: await freePort(), peerPort: await freePort() });
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
  for (const m of members) {
    m.args = [
      '--name', m.name, '--data-dir', join(dir, m.name),
      '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`, '--advertise-client-urls', `http://127.0.0.1:${m.clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
      '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', `sluice-it-${process.pid}`,
      '--heartbeat-interval', '50', '--election-timeout', '500',
    ];
    spawnMember(m);
  }
  const cluster = new EtcdCluster(members, dir);
  // No event says "the cluster has a leader": ask each member's /health until all say so.
  for (const m of members) await untilHealthy(m);
  return cluster;
}

function spawnMember(m) {
  m.log = '';
  m.child = spawn(ETCD, m.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  m.child.stderr.setEncoding('utf8');
  m.child.stderr.on('data', (c) => { m.log = (m.log + c).slice(-20000); });
}

async function untilHealthy(m) {
  const deadline = Date.now() + 20_000;
  while (!(await healthy(m.clientPort))) {
    if (m.child.exitCode !== null) throw new Error(`etcd ${m.name} exited:\n${m.log}`);
    if (Date.now() > deadline) throw new Error(`etcd ${m.name} not healthy:\n${m.log}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
