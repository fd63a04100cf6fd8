// Zone drains on the etcd registry with two sluice-control replicas (issue
// 15, point 1): the drain state lives in the key PREFIX/state/drains, only the
// replica holding the lease on PREFIX/state/leader drives drains (the other
// answers 421 and serves the state it sees through its watch), and when the
// driving replica is killed mid-drain the other takes the lease and finishes
// the drain from the stored state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startControl, until } from './lib/control.mjs';
import { startEtcdCluster } from './lib/etcd.mjs';

const P = '/sluice-drain-it';
let etcd;
let replicas = [];

const zone = async (r, name) => (await r.get('/v1/zones')).body.zones.find((z) => z.zone === name);
const post = (r, name, action, body) => r.call('POST', `/v1/zones/${name}/${action}`, body);

before(async () => {
  etcd = await startEtcdCluster(1);
  await etcd.put(`${P}/zones`, ['z1', 'z2', 'z3']);
  await etcd.put(`${P}/services/echo`, { protocol: 'http1', instances: ['z1', 'z2', 'z3'].map((z, i) => ({ address: '127.0.0.1', port: 9001 + i, zone: z })) });
  // One after the other: the first takes the lease.
  for (let i = 0; i < 2; i++) {
    replicas.push(await startControl({ spec: `etcd://${etcd.endpoints()}${P}` }, { args: ['--debounce', '10ms'] }));
  }
});

after(async () => {
  for (const r of replicas) await r.stop();
  await etcd?.stop();
});

test('one replica drives drains; the other refuses with its name and serves the same weights', { timeout: 30_000 }, async () => {
  const [leader, follower] = replicas;
  const holder = await etcd.get(`${P}/state/leader`);
  assert.equal(holder, `127.0.0.1:0/${leader.child.pid}`);
  const refused = await post(follower, 'z3', 'drain', { to: 0, step: 50, every: '50ms' });
  assert.equal(refused.status, 421);
  assert.match(refused.body.error, new RegExp(`replica '127\\.0\\.0\\.1:0/${leader.child.pid}' does`));
  const started = await post(leader, 'z3', 'drain', { to: 0, step: 50, every: '50ms' });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  await until(async () => (await zone(leader, 'z3')).state === 'done', 'z3 drained by the leader');
  const stored = JSON.parse(await etcd.get(`${P}/state/drains`));
  assert.equal(stored.drains.z3.weight, 0);
  // The follower serves what the leader stored, through its watch.
  await until(async () => (await zone(follower, 'z3')).weight === 0, 'the follower serving z3 at 0');
  assert.equal((await zone(follower, 'z3')).state, 'done');
  assert.match(follower.stderr, /zone drains: etcd:\/sluice-drain-it\/state\/drains changed by replica/);
});

test('the driving replica killed mid-drain: the other takes the lease and finishes the drain', { timeout: 40_000 }, async () => {
  const [leader, follower] = replicas;
  assert.equal((await post(leader, 'z3', 'undrain', { step: 100, every: '10ms' })).status, 200);
  await until(async () => (await zone(follower, 'z3')).state === 'idle', 'z3 back to idle on the follower');
  assert.equal((await post(leader, 'z2', 'drain', { to: 0, step: 10, every: '300ms' })).status, 200);
  await until(async () => (await zone(follower, 'z2')).weight <= 80, 'z2 part way, seen by the follower');
  await leader.kill();
  // The lease (6 s) runs out; the follower campaigns every 2 s.
  await until(async () => (await etcd.get(`${P}/state/leader`)) === `127.0.0.1:0/${follower.child.pid}`,
    'the follower holding the leader key', 20_000);
  await until(async () => (await zone(follower, 'z2')).state === 'done', 'z2 drained by the new leader', 20_000);
  assert.equal((await zone(follower, 'z2')).weight, 0);
  assert.match(follower.stderr, /this replica now drives drains/);
  assert.equal(JSON.parse(await etcd.get(`${P}/state/drains`)).drains.z2.weight, 0);
});
