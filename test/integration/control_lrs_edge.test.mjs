// Load reports end to end: the real sluice, configured by the real
// sluice-control over ADS, sends LRS to sluice-control's ADS port
// (cluster_manager.load_stats_config, as examples/control/edge.yaml does);
// sluice-control asks for all clusters every 250 ms, and GET /v1/zones shows
// the zone's requests per second and errors from sluice's reports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';
import { startControl, startEdge, freePort, until, nodeSynced } from './lib/control.mjs';

let control;
let sluice;
let a;
let b;
let gatewayPort;

const registry = () => `zones: [z1, z2]
services:
  - name: echo
    instances:
      - { address: 127.0.0.1, port: ${a.port}, zone: z1 }
      - { address: 127.0.0.1, port: ${b.port}, zone: z2 }
gateways:
  - name: edge
    port: ${gatewayPort}
    address: 127.0.0.1
    virtual_hosts:
      - domains: ["*"]
        routes: [ { prefix: "/", service: echo } ]
zone_weights: { z2: 0 }
`;

const zone = async (name) => (await control.get('/v1/zones')).body.zones.find((z) => z.zone === name);
const edgeLoad = (z) => z.load.filter((l) => l.node === 'edge-1');

before(async () => {
  a = await startBackend({ name: 'a' });
  b = await startBackend({ name: 'b' });
  gatewayPort = await freePort();
  control = await startControl(registry(), { args: ['--debounce', '20ms', '--load-reporting-interval', '250ms'] });
  sluice = await startEdge([control.xdsPort], { loadStats: true });
  await until(() => nodeSynced(control, 'edge-1'));
});

after(async () => {
  await sluice?.stop();
  await control?.stop();
  await a?.close();
  await b?.close();
});

test('GET /v1/zones shows the drained-to zone\'s rps and errors from sluice\'s load reports', { timeout: 30_000 }, async () => {
  await until(async () => (await control.get('/v1/zones')).body.lrs_streams === 1, 'sluice\'s LRS stream');
  await until(async () => (await sluice.stat('cluster_manager.load_reporter.responses')) === 1, 'the response applied');
  // Sequential load, every fourth request a 503 from the backend, until a
  // report of a full interval of it arrives.
  let stop = false;
  let sent = 0;
  const load = (async () => {
    while (!stop) {
      const path = sent % 4 === 3 ? '/status/503' : '/';
      const res = await request({ port: gatewayPort, path });
      assert.equal(res.status, path === '/' ? 200 : 503);
      sent++;
    }
  })();
  let z1;
  try {
    await until(async () => {
      const loads = edgeLoad(await zone('z1'));
      z1 = loads.find((l) => l.cluster === 'echo.z1');
      return z1 !== undefined && z1.upstream_rq_total >= 20;
    }, 'a report of z1\'s load', 20_000);
  } finally {
    stop = true;
    await load;
  }
  assert.ok(z1.interval_seconds >= 0.249 && z1.interval_seconds < 3, `interval ${z1.interval_seconds}`);
  // One report covers a run of consecutive requests: a quarter of them (to
  // one) failed, the rest succeeded; issued counts those begun (one at a
  // time here), ended those that ended.
  const ended = z1.upstream_rq_success + z1.upstream_rq_error;
  assert.ok(Math.abs(z1.upstream_rq_total - ended) <= 1, JSON.stringify(z1));
  assert.ok(z1.upstream_rq_active <= 1, JSON.stringify(z1));
  assert.ok(Math.abs(z1.upstream_rq_error - ended / 4) <= 1, JSON.stringify(z1));
  assert.ok(Math.abs(z1.rps - z1.upstream_rq_total / z1.interval_seconds) < 1e-6);
  assert.ok((await zone('z1')).reported_rps > 0);
  // The drained zone took nothing, and its cluster reports no locality load.
  assert.deepEqual(edgeLoad(await zone('z2')), []);
  assert.equal(b.connections(), 0);
});
