// Load balancing end to end: which backend of a cluster each request reaches
// (every backend names itself in x-backend). Exact assertions run sluice with
// one worker: each worker keeps its own rotation, so with two the interleaving
// would depend on which worker accepted which connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

let backends;

before(async () => {
  backends = await Promise.all(['b0', 'b1', 'b2'].map((name) => startBackend({ name })));
});

after(async () => {
  for (const b of backends ?? []) await b.close();
});

// sluice with one cluster `pool` of `endpoints` (ports or {port, weight}).
async function withCluster(endpoints, clusterExtra, { routeExtra = {}, concurrency = 1 } = {}, body) {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({
        routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'pool', ...routeExtra } }]),
      })],
      clusters: [staticCluster('pool', endpoints, clusterExtra)],
    },
  }, { concurrency });
  try {
    await body(s);
  } finally {
    assert.equal(await s.stop(), 0);
  }
}

// The backend names of `count` sequential requests over one keep-alive connection.
async function sequence(s, count, { path = '/status/204', headers = {} } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const names = [];
  try {
    for (let i = 0; i < count; ++i) {
      const res = await request({ port: s.port(), path, headers, agent });
      assert.equal(res.status, 204);
      names.push(res.headers['x-backend']);
    }
  } finally {
    agent.destroy();
  }
  return names;
}

function tally(names) {
  const counts = {};
  for (const n of names) counts[n] = (counts[n] ?? 0) + 1;
  return counts;
}

test('ROUND_ROBIN rotates over the hosts in a fixed order, exactly evenly', async (t) => {
  await withCluster(backends.map((b) => b.port), { lb_policy: 'ROUND_ROBIN' }, {}, async (s) => {
    const names = await sequence(s, 300);
    assert.deepEqual(tally(names), { b0: 100, b1: 100, b2: 100 });
    // A rotation: every request goes to the host after the previous one.
    const order = names.slice(0, 3);
    assert.equal(new Set(order).size, 3, `first three: ${order}`);
    names.forEach((n, i) => assert.equal(n, order[i % 3], `request ${i}`));
    t.diagnostic(`ROUND_ROBIN over 300: ${JSON.stringify(tally(names))}`);
  });
});

test('ROUND_ROBIN with fresh connections spreads evenly over two workers', async (t) => {
  await withCluster(backends.map((b) => b.port), { lb_policy: 'ROUND_ROBIN' }, { concurrency: 2 }, async (s) => {
    const names = [];
    for (let i = 0; i < 300; ++i) {
      const res = await request({ port: s.port(), path: '/status/204' }); // agent: false, a new connection each
      names.push(res.headers['x-backend']);
    }
    const counts = tally(names);
    // Each worker rotates on its own, so each host gets within one rotation
    // step per worker of an even share; allow a little more for safety.
    for (const b of backends) assert.ok(Math.abs(counts[b.name] - 100) <= 10, JSON.stringify(counts));
    t.diagnostic(`ROUND_ROBIN, 2 workers, new connection per request, 300: ${JSON.stringify(counts)}`);
  });
});

test('weighted ROUND_ROBIN gives a 3:1 split exactly, in every window of 4', async (t) => {
  const endpoints = [{ port: backends[0].port, weight: 3 }, { port: backends[1].port, weight: 1 }];
  await withCluster(endpoints, { lb_policy: 'ROUND_ROBIN' }, {}, async (s) => {
    const names = await sequence(s, 400);
    assert.deepEqual(tally(names), { b0: 300, b1: 100 });
    for (let i = 0; i < names.length; i += 4) {
      assert.deepEqual(tally(names.slice(i, i + 4)), { b0: 3, b1: 1 }, `window at ${i}: ${names.slice(i, i + 4)}`);
    }
    t.diagnostic(`weighted ROUND_ROBIN 3:1 over 400: ${JSON.stringify(tally(names))}`);
  });
});

test('RANDOM spreads over every host within statistical bounds', async (t) => {
  await withCluster(backends.map((b) => b.port), { lb_policy: 'RANDOM' }, {}, async (s) => {
    const names = await sequence(s, 1500);
    const counts = tally(names);
    // n = 1500, p = 1/3: sd = 18.3; 375..625 is more than 6 sd from 500.
    for (const b of backends) assert.ok(counts[b.name] >= 375 && counts[b.name] <= 625, JSON.stringify(counts));
    // And not a rotation in disguise.
    const rotation = names.every((n, i) => i < 3 || n === names[i - 3]);
    assert.ok(!rotation, 'RANDOM picked in a fixed rotation');
    t.diagnostic(`RANDOM over 1500: ${JSON.stringify(counts)}`);
  });
});

test('RANDOM makes different choices in two sluice processes', async () => {
  const sequences = [];
  for (let run = 0; run < 2; ++run) {
    await withCluster(backends.map((b) => b.port), { lb_policy: 'RANDOM' }, {}, async (s) => {
      sequences.push((await sequence(s, 30)).join(' '));
    });
  }
  // Equal by chance with probability 3^-30.
  assert.notEqual(sequences[0], sequences[1]);
});

for (const policy of ['RING_HASH', 'MAGLEV']) {
  test(`${policy} sends a user to the same host every time and spreads users over all hosts`, async (t) => {
    const hashPolicy = { hash_policy: [{ header: { header_name: 'x-user' } }] };
    // Two workers and a new connection per request: both workers' tables must agree.
    await withCluster(backends.map((b) => b.port), { lb_policy: policy }, { routeExtra: hashPolicy, concurrency: 2 },
      async (s) => {
        const home = new Map();
        const users = Array.from({ length: 60 }, (_, i) => `user-${i}`);
        for (let round = 0; round < 4; ++round) {
          await Promise.all(users.map(async (user) => {
            const res = await request({ port: s.port(), path: '/status/204', headers: { 'x-user': user } });
            const name = res.headers['x-backend'];
            if (!home.has(user)) home.set(user, name);
            assert.equal(name, home.get(user), `${user} moved`);
          }));
        }
        const counts = tally([...home.values()]);
        // 60 users over 3 hosts: every host gets some (each would be empty
        // with probability (2/3)^60 for a uniform hash).
        assert.deepEqual(Object.keys(counts).sort(), ['b0', 'b1', 'b2'], JSON.stringify(counts));
        for (const n of Object.values(counts)) assert.ok(n >= 6, JSON.stringify(counts));
        t.diagnostic(`${policy}: 60 users per host: ${JSON.stringify(counts)}`);
      });
  });
}

test('hash_policy on a cookie or a query parameter keeps each key on one host', async () => {
  const hashPolicy = { hash_policy: [{ cookie: { name: 'sid' } }, { query_parameter: { name: 'tenant' } }] };
  await withCluster(backends.map((b) => b.port), { lb_policy: 'MAGLEV' }, { routeExtra: hashPolicy, concurrency: 2 },
    async (s) => {
      const hostFor = async (path, headers = {}) => {
        const names = new Set();
        for (let i = 0; i < 5; ++i) names.add((await request({ port: s.port(), path, headers })).headers['x-backend']);
        assert.equal(names.size, 1, `${path} ${JSON.stringify(headers)} went to ${[...names]}`);
        return [...names][0];
      };
      const byCookie = new Set();
      const byTenant = new Set();
      for (let i = 0; i < 30; ++i) {
        byCookie.add(await hostFor('/status/204', { cookie: `theme=dark; sid=session-${i}` }));
        byTenant.add(await hostFor(`/status/204?tenant=t${i}&page=${i}`));
      }
      assert.equal(byCookie.size, 3);
      assert.equal(byTenant.size, 3);
    });
});

test('LEAST_REQUEST sends most concurrent requests to the host that answers fast', async (t) => {
  const slow = await startBackend({ name: 'slow', delay: 200 });
  try {
    await withCluster([backends[0].port, slow.port], { lb_policy: 'LEAST_REQUEST' }, {}, async (s) => {
      // 10 clients, each sending requests back to back, 300 requests in all.
      // Random choice sends half of them to the slow host whatever its load;
      // least request sees its queue and sends nearly all to the fast one.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
      const names = [];
      try {
        let left = 300;
        const client = async () => {
          while (left > 0) {
            left -= 1;
            const res = await request({ port: s.port(), path: '/status/204', agent });
            names.push(res.headers['x-backend']);
          }
        };
        await Promise.all(Array.from({ length: 10 }, client));
      } finally {
        agent.destroy();
      }
      const counts = tally(names);
      t.diagnostic(`LEAST_REQUEST, fast vs 200 ms host, 10 concurrent, 300: ${JSON.stringify(counts)}`);
      assert.ok((counts.b0 ?? 0) >= 0.8 * names.length, JSON.stringify(counts));
    });
  } finally {
    await slow.close();
  }
});
