// The zone-drain drill (issue 15, point 5), on a short schedule: 3 zones x 2
// backends, sluice-control on a file registry, two real sluice edge proxies
// (each its own gateway) sending load reports, continuous load through both.
// Zone z3 is drained 100 -> 0 in 1% steps: no request fails; in every step
// the share of requests reaching z3 is its weight's share (w / (w + 200))
// within 3 percentage points; sluice-control is SIGKILLed mid-drain (the
// proxies keep the last weights and serve) and restarted on the same state
// file (the drain resumes from the weight it had); then a backend of a
// remaining zone is made to fail during another drain and the guard pauses it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modeBackend } from './lib/backend.mjs';
import { startControl, startEdge, freePort, until, nodeSynced, zoneRegistry } from './lib/control.mjs';

const ZONES = ['z1', 'z2', 'z3'];
const EVERY_MS = 250;
// Responses this close to a weight change (as sluice-control reported it)
// may have been routed on either weight: left out of the step's share.
const GUARD_BAND_MS = 70;
const TOLERANCE_PP = 3;

let control;
const edges = [];
const gateways = [];
const backends = [];
let xdsPort;
let stateDir;
let registryText;
let agent;

const args = () => ['--debounce', '10ms', '--state-file', join(stateDir, 'drains.json'), '--load-reporting-interval', '200ms',
  '--guard-min-requests', '20'];

async function zone(name) {
  const res = await control.get('/v1/zones');
  return res.body.zones.find((z) => z.zone === name);
}

function get(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, zone: res.headers['x-backend']?.split('-')[0], at: Date.now() }));
    });
    req.on('error', (e) => resolve({ status: 0, error: e.message, at: Date.now() }));
  });
}

// Continuous load through both edges; every response kept with its time.
function startLoad(clients = 6) {
  const responses = [];
  let running = true;
  const loops = Array.from({ length: clients }, async (_, i) => {
    while (running) responses.push(await get(gateways[i % gateways.length]));
  });
  return { responses, stop: async () => { running = false; await Promise.all(loops); } };
}

// Polls the drained zone's weight at sluice-control while `running`: the
// times each weight was first seen.
function watchWeights(name) {
  const seen = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const z = await zone(name);
        if (seen.length === 0 || seen.at(-1).weight !== z.weight) seen.push({ weight: z.weight, at: Date.now() });
      } catch { /* the control plane is down: nothing to see */ }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return { seen, stop: async () => { running = false; await loop; } };
}

before(async () => {
  for (const z of ZONES) for (const n of [1, 2]) backends.push(Object.assign(await modeBackend(`${z}-${n}`), { zone: z }));
  gateways.push(await freePort(), await freePort());
  xdsPort = await freePort();
  stateDir = mkdtempSync(join(tmpdir(), 'sluice-drill-'));
  registryText = zoneRegistry(ZONES, backends, gateways);
  control = await startControl(registryText, { args: args(), xdsPort });
  for (const [i, z] of ['z1', 'z2'].entries()) {
    edges.push(await startEdge([xdsPort], { id: `edge-${i + 1}`, cluster: `edge${i + 1}`, zone: z, loadStats: true, concurrency: 1 }));
  }
  for (const e of ['edge-1', 'edge-2']) await until(() => nodeSynced(control, e), `${e} SYNCED`);
  agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
});

after(async () => {
  agent?.destroy();
  for (const e of edges) await e.stop();
  await control?.stop();
  for (const b of backends) b.server.close();
  rmSync(stateDir, { recursive: true, force: true });
});

test('drill: z3 drained 100 -> 0 in 1% steps under load, the control plane killed and restarted mid-drain', { timeout: 120_000 }, async (t) => {
  const load = startLoad();
  const weights = watchWeights('z3');
  await until(() => load.responses.length > 200, 'load flowing');
  const started = await control.call('POST', '/v1/zones/z3/drain', { to: 0, step: 1, every: `${EVERY_MS}ms` });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  await until(async () => (await zone('z3')).weight <= 50, 'z3 half drained', 60_000);

  // Killed mid-drain: the proxies serve on with the weights they have.
  await control.kill();
  const killedAt = JSON.parse(readFileSync(join(stateDir, 'drains.json'), 'utf8')).drains.z3;
  const during = load.responses.length;
  await until(() => load.responses.length > during + 300, 'load served with no control plane', 20_000);
  control = await startControl(registryText, { args: args(), xdsPort });
  await until(async () => (await zone('z3'))?.state === 'done', 'the resumed drain done', 60_000);
  await until(async () => {
    const last = load.responses.slice(-200);
    return last.length === 200 && last.every((r) => r.zone !== 'z3');
  }, 'no more traffic to z3');
  await weights.stop();
  await load.stop();

  // No request failed, from the first step to the last.
  const failed = load.responses.filter((r) => r.status !== 200);
  assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 5))}`);
  // The drain resumed where it was (never back at 100): weights only went down.
  const seq = weights.seen.map((s) => s.weight);
  for (let i = 1; i < seq.length; i++) assert.ok(seq[i] < seq[i - 1], `weights ${seq.join(',')}`);
  assert.ok(killedAt.weight <= 50 && killedAt.weight > 0, JSON.stringify(killedAt));
  assert.ok(control.stderr.includes(`zone z3: drain restored`), control.stderr);
  // The share in every step: responses between two weight changes (minus the guard band).
  let judged = 0;
  let worst = 0;
  const misses = [];
  for (let i = 0; i + 1 < weights.seen.length; i++) {
    const { weight, at } = weights.seen[i];
    const end = weights.seen[i + 1].at;
    const inStep = load.responses.filter((r) => r.at >= at + GUARD_BAND_MS && r.at < end);
    if (inStep.length < 150 || weight === 100) continue;
    judged++;
    const share = (100 * inStep.filter((r) => r.zone === 'z3').length) / inStep.length;
    const expected = (100 * weight) / (weight + 200);
    worst = Math.max(worst, Math.abs(share - expected));
    if (Math.abs(share - expected) > TOLERANCE_PP) misses.push({ weight, share: share.toFixed(2), expected: expected.toFixed(2), n: inStep.length });
  }
  t.diagnostic(`${load.responses.length} responses, ${judged} of ${weights.seen.length} steps judged, worst step ${worst.toFixed(2)} points off`);
  assert.deepEqual(misses, [], `steps off the schedule by more than ${TOLERANCE_PP} points`);
  // Enough load to judge most steps (the rest fall in the kill or had too few responses).
  assert.ok(judged >= 60, `only ${judged} of ${weights.seen.length} steps had enough responses to judge`);
});

test('drill: a remaining zone\'s backend fails during a drain and the guard pauses it', { timeout: 60_000 }, async () => {
  assert.equal((await control.call('POST', '/v1/zones/z3/undrain', { step: 100, every: '10ms' })).status, 200);
  await until(async () => (await zone('z3')).state === 'idle', 'z3 back');
  const load = startLoad(4);
  try {
    assert.equal((await control.call('POST', '/v1/zones/z3/drain', { to: 0, step: 1, every: '200ms' })).status, 200);
    await until(async () => (await zone('z3')).weight <= 97, 'a few steps');
    backends.find((b) => b.name === 'z1-1').mode = '503';
    await until(async () => (await zone('z3')).state === 'paused', 'the guard pausing the drain', 30_000);
    const z3 = await zone('z3');
    assert.match(z3.guard.reason, /error rate [\d.]+% in the remaining zones/);
    assert.ok(z3.guard.error_rate > 0.05, JSON.stringify(z3.guard));
    const metrics = (await control.get('/metrics')).body;
    assert.match(metrics, /^sluice_control_drain_guard_pauses_total 1$/m);
  } finally {
    backends.find((b) => b.name === 'z1-1').mode = 'ok';
    await load.stop();
  }
});
