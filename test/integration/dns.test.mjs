// DNS clusters follow their name: STRICT_DNS and LOGICAL_DNS clusters resolve
// again every dns_refresh_rate and new requests go to the new answer. The test
// owns the answer by giving sluice an /etc/hosts of its own (a bind mount in a
// private mount namespace), rewritten in place between resolutions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canSwapEtc, startSluice, httpListener, routes } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

const name = 'svc.sluice.test';
const skip = canSwapEtc() ? false : 'needs a private mount namespace (unshare --mount) to own /etc/hosts';
const backends = {};
let dir;
let hostsFile;
let resolvConf;
let nsswitch;

// Points `name` at `addresses` (the system's own entries kept).
function answer(...addresses) {
  const system = readFileSync('/etc/hosts', 'utf8');
  writeFileSync(hostsFile, `${system}\n${addresses.map((a) => `${a} ${name}`).join('\n')}\n`);
}

function dnsCluster(clusterName, type, port) {
  return {
    name: clusterName,
    type,
    connect_timeout: '1s',
    dns_refresh_rate: '0.1s',
    load_assignment: {
      cluster_name: clusterName,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: name, port_value: port } } } }] }],
    },
  };
}

async function proxy(type) {
  return startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'svc' } }]) })],
      clusters: [dnsCluster('svc', type, backends.a.port)],
    },
  }, { etc: { hosts: hostsFile, 'resolv.conf': resolvConf, 'nsswitch.conf': nsswitch }, concurrency: 2 });
}

// From now on a name missing from the hosts file gets no answer at all: it
// is asked of the DNS server, which refuses the query.
function dnsServerDown() {
  writeFileSync(nsswitch, 'hosts: files dns\n');
}

// Which backends answered `n` requests, as {name: count}.
async function spread(sluice, n) {
  const seen = {};
  for (let i = 0; i < n; i++) {
    const res = await request({ port: sluice.port(), path: '/' });
    assert.equal(res.status, 200, res.body);
    const who = report(res.body).name;
    seen[who] = (seen[who] ?? 0) + 1;
  }
  return seen;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'sluice-dns-'));
  hostsFile = join(dir, 'hosts');
  // A name missing from the hosts file is a definite "no such name" while
  // names are looked up in the hosts file only, and a failed lookup
  // (EAI_AGAIN) once DNS is consulted too (see dnsServerDown()): the server
  // configured, a closed port on loopback, refuses every query.
  resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  nsswitch = join(dir, 'nsswitch.conf');
  writeFileSync(nsswitch, 'hosts: files\n');
  // Three hosts on one port: the port is the cluster's, the address is DNS's.
  backends.a = await startBackend({ name: 'a', host: '127.0.0.2' });
  backends.b = await startBackend({ name: 'b', host: '127.0.0.3', port: backends.a.port });
  backends.c = await startBackend({ name: 'c', host: '127.0.0.4', port: backends.a.port });
});

after(async () => {
  for (const b of Object.values(backends)) await b.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a STRICT_DNS cluster moves to a changed answer and uses every address in it', { skip }, async () => {
  answer('127.0.0.2');
  const sluice = await proxy('STRICT_DNS');
  try {
    assert.deepEqual(await spread(sluice, 4), { a: 4 });

    let applied = sluice.waitForLog(/DNS update applied/);
    answer('127.0.0.3');
    await applied;
    assert.deepEqual(await spread(sluice, 4), { b: 4 });

    applied = sluice.waitForLog(/DNS update applied/);
    answer('127.0.0.3', '127.0.0.4');
    await applied;
    const both = await spread(sluice, 40);
    assert.deepEqual(Object.keys(both).sort(), ['b', 'c']);
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});

test('a LOGICAL_DNS cluster follows the first address of a changed answer', { skip }, async () => {
  answer('127.0.0.2');
  const sluice = await proxy('LOGICAL_DNS');
  try {
    assert.deepEqual(await spread(sluice, 3), { a: 3 });
    let applied = sluice.waitForLog(/DNS update applied/);
    answer('127.0.0.4');
    await applied;
    assert.deepEqual(await spread(sluice, 3), { c: 3 });

    // As in Envoy, an empty answer does not take a logical DNS cluster's host away.
    applied = sluice.waitForLog(/DNS update applied/);
    answer();
    await applied;
    assert.deepEqual(await spread(sluice, 3), { c: 3 });
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});

test('a STRICT_DNS cluster whose name stops existing has no hosts (503), and recovers when it returns', { skip }, async () => {
  answer('127.0.0.2');
  const sluice = await proxy('STRICT_DNS');
  try {
    assert.deepEqual(await spread(sluice, 2), { a: 2 });
    let applied = sluice.waitForLog(/DNS update applied/);
    answer();
    await applied;
    const res = await request({ port: sluice.port(), path: '/' });
    assert.equal(res.status, 503);
    applied = sluice.waitForLog(/DNS update applied/);
    answer('127.0.0.3');
    await applied;
    assert.deepEqual(await spread(sluice, 2), { b: 2 });
  } finally {
    assert.equal(await sluice.stop(), 0);
  }
});

test('a failed resolution keeps a STRICT_DNS cluster\'s hosts, and is logged once until it recovers', { skip }, async () => {
  answer('127.0.0.2');
  const sluice = await proxy('STRICT_DNS');
  try {
    assert.deepEqual(await spread(sluice, 2), { a: 2 });
    const failed = sluice.waitForLog(/DNS resolution of 'svc\.sluice\.test' failed: .*; keeping its 1 address/);
    dnsServerDown();
    answer();
    await failed;
    assert.deepEqual(await spread(sluice, 4), { a: 4 });
    const recovered = sluice.waitForLog(/DNS resolution of 'svc\.sluice\.test' recovered/);
    const applied = sluice.waitForLog(/DNS update applied/);
    answer('127.0.0.3');
    await Promise.all([recovered, applied]);
    assert.deepEqual(await spread(sluice, 2), { b: 2 });
    assert.equal(sluice.stderr.match(/DNS resolution of 'svc\.sluice\.test' failed/g).length, 1);
  } finally {
    writeFileSync(nsswitch, 'hosts: files\n');
    assert.equal(await sluice.stop(), 0);
  }
});
