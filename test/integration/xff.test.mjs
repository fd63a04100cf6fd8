// The trusted client address (Envoy's x-forwarded-for rules, use_remote_address
// and xff_num_trusted_hops; proxy::resolveDownstreamClient) and what reads it:
// %DOWNSTREAM_REMOTE_ADDRESS% (and _WITHOUT_PORT) in access logs, hash_policy
// connection_properties.source_ip, x-envoy-external-address, and the
// x-forwarded-for / -proto the upstream gets. Every client here is 127.0.0.1;
// the addresses it claims in x-forwarded-for are what differ.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

const dir = mkdtempSync(join(tmpdir(), 'sluice-xff-'));
const log = join(dir, 'access.log');
let backends;
let sluice;

const accessLog = {
  name: 'envoy.access_loggers.file',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
    path: log,
    log_format: {
      json_format: {
        id: '%REQ(X-TEST-ID)%',
        remote: '%DOWNSTREAM_REMOTE_ADDRESS%',
        remote_ip: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%',
        direct: '%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%',
      },
    },
  },
};

before(async () => {
  backends = await Promise.all(['a', 'b', 'c'].map((name) => startBackend({ name })));
  const hashed = routes([{
    match: { prefix: '/' },
    route: { cluster: 'hashed', hash_policy: [{ connection_properties: { source_ip: true } }] },
  }]);
  sluice = await startSluice({
    static_resources: {
      listeners: [
        // Behind one trusted proxy, not at the edge: the 2nd address from the right.
        httpListener({ name: 'inner', routeConfig: hashed, hcm: { xff_num_trusted_hops: 1, access_log: [accessLog] } }),
        // The edge, behind one trusted load balancer: the 1st address from the right.
        httpListener({
          name: 'edge',
          routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'hashed' } }]),
          hcm: { use_remote_address: true, xff_num_trusted_hops: 1, access_log: [accessLog] },
        }),
        // The edge itself: the peer.
        httpListener({
          name: 'edge0',
          routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'hashed' } }]),
          hcm: { use_remote_address: true },
        }),
      ],
      clusters: [staticCluster('hashed', backends.map((b) => b.port), { lb_policy: 'MAGLEV' })],
    },
  }, { concurrency: 1 });
});

after(async () => {
  await sluice?.stop();
  await Promise.all(backends.map((b) => b.close()));
  rmSync(dir, { recursive: true, force: true });
});

function send(listener, headers) {
  return request({ port: sluice.port(listener), path: '/', headers });
}

// The access-log line of the request sent with x-test-id: `id`. The writer
// thread has no event to wait for: poll the file.
async function lineFor(id) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l) : [];
    const found = lines.map((l) => JSON.parse(l)).find((l) => l.id === id);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no access-log line for ${id}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('access logs: %DOWNSTREAM_REMOTE_ADDRESS% is the trusted client from x-forwarded-for, with port 0', async () => {
  const res = await send('inner', { 'x-forwarded-for': '203.0.113.7, 10.0.0.2', 'x-test-id': 'inner-1' });
  assert.equal(res.status, 200);
  assert.deepEqual(await lineFor('inner-1'),
    { id: 'inner-1', remote: '203.0.113.7:0', remote_ip: '203.0.113.7', direct: '127.0.0.1' });
  // Not enough entries to skip the trusted hop: the peer, with its port.
  await send('inner', { 'x-forwarded-for': '203.0.113.7', 'x-test-id': 'inner-2' });
  const short = await lineFor('inner-2');
  assert.match(short.remote, /^127\.0\.0\.1:\d+$/);
  assert.equal(short.remote_ip, '127.0.0.1');
  // use_remote_address with one trusted hop: the 1st address from the right.
  await send('edge', { 'x-forwarded-for': '198.51.100.1, 203.0.113.9', 'x-test-id': 'edge-1' });
  assert.deepEqual(await lineFor('edge-1'),
    { id: 'edge-1', remote: '203.0.113.9:0', remote_ip: '203.0.113.9', direct: '127.0.0.1' });
});

test('hash_policy source_ip hashes the trusted client address, not the peer', async () => {
  const hostOf = async (client) => {
    const res = await send('inner', { 'x-forwarded-for': `${client}, 10.0.0.2` });
    assert.equal(res.status, 200);
    return report(res.body).name;
  };
  const chosen = new Map();
  for (let i = 1; i <= 24; ++i) chosen.set(i, await hostOf(`198.51.100.${i}`));
  // One peer, 24 clients: more than one host (all on one: 3^-23).
  assert.ok(new Set(chosen.values()).size > 1, JSON.stringify([...chosen]));
  // Each client keeps its host.
  for (const [i, host] of chosen) assert.equal(await hostOf(`198.51.100.${i}`), host);
});

test('x-envoy-external-address names the trusted client of an external request at the edge', async () => {
  const behindLb = report((await send('edge', { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' })).body);
  assert.equal(behindLb.header('x-envoy-external-address'), '203.0.113.7');
  // The peer is appended; the trusted load balancer's x-forwarded-proto is kept.
  assert.equal(behindLb.header('x-forwarded-for'), '203.0.113.7,127.0.0.1');
  assert.equal(behindLb.header('x-forwarded-proto'), 'https');

  // From 127.0.0.1 with no x-forwarded-for: one internal address, an internal request.
  const internal = report((await send('edge', {})).body);
  assert.equal(internal.header('x-forwarded-for'), '127.0.0.1');
  assert.equal(internal.header('x-envoy-external-address'), undefined);

  // The edge itself (no trusted hops): the peer is the client; x-forwarded-for
  // then holds two addresses, so the request is external; proto is this hop's.
  const edge = report((await send('edge0', { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' })).body);
  assert.equal(edge.header('x-envoy-external-address'), '127.0.0.1');
  assert.equal(edge.header('x-forwarded-for'), '203.0.113.7,127.0.0.1');
  assert.equal(edge.header('x-forwarded-proto'), 'http');
});
