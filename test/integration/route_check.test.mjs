// `sluice --mode route-check` (docs/ROUTE_CHECK.md): Envoy's router check tool
// schema run by the real binary against the config's compiled route table.
// Passing tests exit 0; a wrong expectation exits 1 naming the test, the
// field, the expected and the actual value; coverage and --fail-under; bad
// files are errors naming them, never a crash. The shipped examples' tests
// pass, and what route-check says a request gets is what serve does with it.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SLUICE, startSluice, httpListener, staticCluster } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { request } from './lib/http.mjs';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');
const dir = mkdtempSync(join(tmpdir(), 'sluice-route-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function write(content, ext = 'yaml') {
  const file = join(dir, `f${n++}.${ext}`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function run(args) {
  const r = spawnSync(SLUICE, ['--mode', 'route-check', ...args], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, `killed by ${r.signal}:\n${r.stderr}`);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// A config with one route table: /api to api (with a prefix rewrite and a
// request header), a redirect, a weighted split, a direct answer.
const table = {
  name: 'edge_routes',
  virtual_hosts: [
    {
      name: 'www',
      domains: ['www.example.com'],
      routes: [
        {
          name: 'api',
          match: { prefix: '/api/' },
          route: { cluster: 'api', prefix_rewrite: '/v2/', host_rewrite_literal: 'api.internal' },
          request_headers_to_add: [{ header: { key: 'x-route', value: 'api' } }],
          response_headers_to_add: [{ header: { key: 'x-served', value: 'api' } }],
        },
        { name: 'old', match: { prefix: '/old' }, redirect: { path_redirect: '/new', response_code: 'FOUND' } },
        {
          name: 'split',
          match: { prefix: '/' },
          route: { weighted_clusters: { clusters: [{ name: 'web', weight: 80 }, { name: 'canary', weight: 20 }] } },
        },
      ],
    },
    { name: 'other', domains: ['*'], routes: [{ name: 'teapot', match: { prefix: '/' }, direct_response: { status: 418 } }] },
  ],
};
const clusters = ['api', 'web', 'canary'].map((name) => staticCluster(name, [1]));
const config = write({ static_resources: { listeners: [httpListener({ name: 'edge', routeConfig: table })], clusters } });

const passing = {
  tests: [
    {
      test_name: 'api is rewritten',
      input: { authority: 'www.example.com', path: '/api/users?id=1', method: 'GET' },
      validate: {
        cluster_name: 'api',
        virtual_host_name: 'www',
        path_rewrite: '/v2/users?id=1',
        host_rewrite: 'api.internal',
        request_header_matches: [{ name: 'x-route', string_match: { exact: 'api' } }],
        response_header_matches: [{ name: 'x-served', string_match: { exact: 'api' } }],
      },
    },
    {
      test_name: 'old redirects',
      input: { authority: 'www.example.com', path: '/old/page', method: 'GET' },
      validate: { path_redirect: 'http://www.example.com/new', code_redirect: 302, cluster_name: '' },
    },
    {
      test_name: 'random 79 is web',
      input: { authority: 'www.example.com', path: '/', method: 'GET', random_value: 79 },
      validate: { cluster_name: 'web' },
    },
    {
      test_name: 'random 80 is canary',
      input: { authority: 'www.example.com', path: '/', method: 'GET', random_value: 80 },
      validate: { cluster_name: 'canary' },
    },
  ],
};

test('passing tests exit 0 and say how many passed', () => {
  const r = run(['-c', config, '--tests', write(passing)]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /route-check: 4 tests against listener 'edge' \(route_config 'edge_routes'\): 4 passed, 0 failed/);
  assert.doesNotMatch(r.out, /failed\)/);
});

test('JSON tests files are read as well as YAML', () => {
  const r = run(['-c', config, '--tests', write(passing, 'json')]);
  assert.equal(r.code, 0, r.out + r.err);
});

test('a wrong expectation exits 1 naming the test, the field, the expected and the actual value', () => {
  const wrong = {
    tests: [
      passing.tests[0],
      {
        test_name: 'api goes to web (wrong)',
        input: { authority: 'www.example.com', path: '/api/x', method: 'GET' },
        validate: { cluster_name: 'web', path_rewrite: '/api/x' },
      },
      {
        test_name: 'teapot header (wrong)',
        input: { authority: 'elsewhere', path: '/', method: 'GET' },
        validate: { code_redirect: 200, request_header_matches: [{ name: 'x-route', present_match: true }] },
      },
    ],
  };
  const r = run(['-c', config, '--tests', write(wrong)]);
  assert.equal(r.code, 1, r.out + r.err);
  const lines = r.out.split('\n');
  const at = lines.indexOf('api goes to web (wrong) (failed)');
  assert.ok(at >= 0, r.out);
  assert.equal(lines[at + 1], '  expected: [web], actual: [api], test type: cluster_name');
  assert.equal(lines[at + 2], '  expected: [/api/x], actual: [/v2/x], test type: path_rewrite');
  assert.ok(lines.includes('  expected: [200], actual: [418], test type: code_redirect'), r.out);
  assert.ok(lines.includes('  expected: [{name: x-route, present_match: true}], actual: [x-route: (absent)], ' +
    'test type: request_header_matches[0]'), r.out);
  assert.match(r.out, /3 tests .*: 1 passed, 2 failed/);
  assert.doesNotMatch(r.out, /^api is rewritten/m);  // passing tests are quiet without --details
});

test('no route: every value is empty and the test says why', () => {
  const t = write({ tests: [{ test_name: 'nothing', input: { authority: 'www.example.com', path: 'relative', method: 'GET' }, validate: { cluster_name: 'api' } }] });
  const r = run(['-c', config, '--tests', t]);
  assert.equal(r.code, 1);
  assert.match(r.out, /nothing \(failed\)\n {2}no route matches: sluice answers 404\n {2}expected: \[api\], actual: \[\], test type: cluster_name/);
});

test('--details prints every test and what it matched; --only-show-failures leaves out the passing ones', () => {
  const tests = { tests: [...passing.tests, { test_name: 'bad', input: { authority: 'x', path: '/', method: 'GET' }, validate: { cluster_name: 'web' } }] };
  const file = write(tests);
  const all = run(['-c', config, '--tests', file, '--details']);
  assert.equal(all.code, 1);
  assert.match(all.out, /^api is rewritten\n {2}matched virtual_hosts\[0\]\.routes\[0\] 'api' \(forward\) of virtual host 'www': cluster 'api', host 'api.internal', path '\/v2\/users\?id=1'$/m);
  assert.match(all.out, /^old redirects\n {2}matched virtual_hosts\[0\]\.routes\[1\] 'old' \(redirect\) of virtual host 'www': 302 to 'http:\/\/www.example.com\/new'$/m);
  assert.match(all.out, /^bad \(failed\)\n {2}matched virtual_hosts\[1\]\.routes\[0\] 'teapot' \(direct_response\) of virtual host 'other': status 418$/m);
  const failures = run(['-c', config, '--tests', file, '--details', '--only-show-failures']);
  assert.equal(failures.code, 1);
  assert.doesNotMatch(failures.out, /api is rewritten/);
  assert.match(failures.out, /^bad \(failed\)$/m);
});

test('--coverage prints the share of routes covered; --fail-under fails below it', () => {
  // 5 units (api, old, split/web, split/canary, teapot); the first test covers api only.
  const one = write({ tests: [passing.tests[0]] });
  const r = run(['-c', config, '--tests', one, '--coverage']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^Current route coverage: 20%$/m);
  const under = run(['-c', config, '--tests', one, '--fail-under', '50']);
  assert.equal(under.code, 1);
  assert.match(under.out, /^Current route coverage: 20%$/m);
  assert.match(under.err, /Failed to meet coverage requirement: 50%/);
  const detailed = run(['-c', config, '--tests', one, '--detailed-coverage']);
  assert.match(detailed.out, /^Missing test for host: www, route: virtual_hosts\[0\]\.routes\[2\] 'split', cluster: canary$/m);
  assert.match(detailed.out, /^Missing test for host: other, route: virtual_hosts\[1\]\.routes\[0\] 'teapot'$/m);
  assert.doesNotMatch(detailed.out, /route: virtual_hosts\[0\]\.routes\[0\]/);
  // All four passing tests: 4 of 5; and a failed check covers nothing.
  const four = run(['-c', config, '--tests', write(passing), '--fail-under', '80']);
  assert.equal(four.code, 0, four.err);
  assert.match(four.out, /^Current route coverage: 80%$/m);
  // --covall: api has all four fields checked, the redirect one of three, web and canary one of four.
  const covall = run(['-c', config, '--tests', write(passing), '--covall']);
  assert.match(covall.out, /^Current route coverage: (\d+(\.\d+)?)%$/m);
  const pct = Number(covall.out.match(/coverage: ([\d.]+)%/)[1]);
  assert.ok(Math.abs(pct - 100 * (1 + 2 / 3 + 0.25 + 0.25) / 5) < 0.01, covall.out);
});

test('bad input is an error naming the file and the field, exit 1', () => {
  const cases = [
    [join(dir, 'missing.yaml'), /cannot read '.*missing\.yaml'/],
    [write('tests: [ {'), /route tests '.*' are invalid.*\n.*YAML\/JSON syntax error at line/],
    [write(''), /no tests/],
    [write({ tests: [] }), /tests: no tests/],
    [write({ tests: [{ test_name: 'a', input: { authority: 'x', path: '/', method: 'GET' }, validate: { cluster_nme: 'web' } }] }),
      /tests\[0\]\.validate\.cluster_nme: unknown field/],
    [write({ tests: [{ test_name: 'a', input: { authority: 'x', path: '/', method: 'GET', headers: [] }, validate: { cluster_name: 'web' } }] }),
      /tests\[0\]\.input\.headers: unknown field/],
    [write({ tests: [{ test_name: 'a', input: { authority: 'x', path: '/', method: 'GET' }, validate: { virtual_cluster_name: 'v' } }] }),
      /tests\[0\]\.validate\.virtual_cluster_name: not supported: sluice has no virtual clusters/],
    [write({ tests: [{ test_name: 'a', input: { authority: 'x', path: '/', method: 'GET' }, validate: {} }] }),
      /tests\[0\]\.validate: checks nothing/],
    [write({ tests: [{ test_name: 'a', input: { path: '/' }, validate: { cluster_name: 'web' } }] }),
      /tests\[0\]\.input\.authority: is required/],
    [write({ tests: [{ test_name: 'a', input: { authority: 'x', path: '/', random_value: -1 }, validate: { cluster_name: 'web' } }] }),
      /tests\[0\]\.input\.random_value: expects a non-negative integer/],
    [write({ tests: [{ test_name: 'a', input: { authority: 'x', path: '/' }, validate: { request_header_matches: [{ name: 'x', bogus: 1 }] } }] }),
      /tests\[0\]\.validate\.request_header_matches\[0\]\.bogus/],
    [write({ tests: [{ test_name: 'a', input: { authority: 'x', path: '/' }, validate: { request_header_matches: [{ name: 'x', safe_regex_match: { regex: '(' } }] } }] }),
      /tests\[0\]\.validate\.request_header_matches\[0\]\.safe_regex_match\.regex: invalid RE2 pattern/],
  ];
  for (const [file, error] of cases) {
    const r = run(['-c', config, '--tests', file]);
    assert.equal(r.code, 1, `${file}: ${r.out}${r.err}`);
    assert.match(r.err, error, file);
    assert.equal(r.out, '', file);
  }
  const noTests = spawnSync(SLUICE, ['--mode', 'route-check', '-c', config], { encoding: 'utf8' });
  assert.equal(noTests.status, 1);
  assert.match(noTests.stderr, /--mode route-check needs --tests FILE/);
  const wrongMode = spawnSync(SLUICE, ['--mode', 'validate', '-c', config, '--details'], { encoding: 'utf8' });
  assert.equal(wrongMode.status, 1);
  assert.match(wrongMode.stderr, /--details is a flag of --mode route-check/);
  const badConfig = run(['-c', write({ static_resources: { listeners: [httpListener({ routeConfig: { virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { safe_regex: { regex: '(' } }, direct_response: { status: 200 } }] }] } })] } }), '--tests', write(passing)]);
  assert.equal(badConfig.code, 1);
  assert.match(badConfig.err, /is invalid.*\n.*routes\[0\]\.match\.safe_regex\.regex: invalid RE2 pattern/);
});

test('a bare RouteConfiguration file, the input of Envoy\'s tool, is read as well as a bootstrap', () => {
  const r = run(['-c', write(table), '--tests', write(passing), '--coverage']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /route-check: 4 tests against route_config 'edge_routes': 4 passed, 0 failed/);
  assert.match(r.out, /^Current route coverage: 80%$/m);
  assert.equal(run(['-c', write(table), '--tests', write(passing), '--route-config', 'edge_routes']).code, 0);
  const other = run(['-c', write(table), '--tests', write(passing), '--route-config', 'other']);
  assert.equal(other.code, 1);
  assert.match(other.err, /--route-config 'other': the file's route configuration is named 'edge_routes'/);
  const bad = write({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { safe_regex: { regex: '(' } }, route: { cluster: 'c' } }] }] });
  const rb = run(['-c', bad, '--tests', write(passing)]);
  assert.equal(rb.code, 1);
  assert.match(rb.err, /route configuration '.*' is invalid \(1 error\):\nvirtual_hosts\[0\]\.routes\[0\]\.match\.safe_regex\.regex: invalid RE2 pattern/);
  const gated = write({ virtual_hosts: [{ name: 'v', domains: ['*'], virtual_clusters: [{ name: 'vc', headers: [{ name: ':path', exact_match: '/' }] }], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] }] });
  const rg = run(['-c', gated, '--tests', write(passing)]);
  assert.equal(rg.code, 1);
  assert.match(rg.err, /virtual_hosts\[0\]\.virtual_clusters/);
});

test('several route tables need --route-config, by listener or route_config name', () => {
  const second = httpListener({ name: 'admin-side', routeConfig: { name: 'side', virtual_hosts: [{ name: 's', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'web' } }] }] } });
  const two = write({ static_resources: { listeners: [httpListener({ name: 'edge', routeConfig: table }), second], clusters } });
  const tests = write(passing);
  const none = run(['-c', two, '--tests', tests]);
  assert.equal(none.code, 1);
  assert.match(none.err, /2 route tables: choose one with --route-config NAME/);
  assert.match(none.err, /listener 'edge': route_config 'edge_routes'/);
  assert.match(none.err, /listener 'admin-side': route_config 'side'/);
  assert.equal(run(['-c', two, '--tests', tests, '--route-config', 'edge_routes']).code, 0);
  assert.equal(run(['-c', two, '--tests', tests, '--route-config', 'edge']).code, 0);
  const side = run(['-c', two, '--tests', tests, '--route-config', 'admin-side']);
  assert.equal(side.code, 1);
  assert.match(side.out, /against listener 'admin-side'/);
  const unknown = run(['-c', two, '--tests', tests, '--route-config', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /--route-config 'nope': no listener or route_config of that name/);
});

test('runtime: a runtime_fraction route is on only for the test that names its key', () => {
  const fraction = {
    virtual_hosts: [{
      name: 'v',
      domains: ['*'],
      routes: [
        { match: { prefix: '/', runtime_fraction: { default_value: { numerator: 50 }, runtime_key: 'canary.on' } }, route: { cluster: 'canary' } },
        { match: { prefix: '/' }, route: { cluster: 'web' } },
      ],
    }],
  };
  const cfg = write({ static_resources: { listeners: [httpListener({ routeConfig: fraction })], clusters } });
  const tests = write({
    tests: [
      { test_name: 'named, below', input: { authority: 'a', path: '/', runtime: 'canary.on', random_value: 49 }, validate: { cluster_name: 'canary' } },
      { test_name: 'named, above', input: { authority: 'a', path: '/', runtime: 'canary.on', random_value: 50 }, validate: { cluster_name: 'web' } },
      { test_name: 'not named', input: { authority: 'a', path: '/', random_value: 0 }, validate: { cluster_name: 'web' } },
    ],
  });
  const r = run(['-c', cfg, '--tests', tests]);
  assert.equal(r.code, 0, r.out + r.err);
});

test('the examples\' route tests pass with full coverage', () => {
  const quick = run(['-c', join(EXAMPLES, 'quickstart.yaml'), '--tests', join(EXAMPLES, 'route-tests', 'quickstart.yaml'), '--fail-under', '100']);
  assert.equal(quick.code, 0, quick.out + quick.err);
  assert.match(quick.out, /Current route coverage: 100%/);
  const all = run(['-c', join(EXAMPLES, 'all-fields.yaml'), '--tests', join(EXAMPLES, 'route-tests', 'all-fields.yaml'),
    '--route-config', 'public_routes', '--fail-under', '100']);
  assert.equal(all.code, 0, all.out + all.err);
  assert.match(all.out, /Current route coverage: 100%/);
});

// ---- route-check agrees with serve ----

let api;
let web;
before(async () => {
  api = await startBackend({ name: 'api' });
  web = await startBackend({ name: 'web' });
});
after(async () => {
  await api?.close();
  await web?.close();
});

test('what route-check says a request gets is what serve sends upstream', async () => {
  const routeConfig = {
    virtual_hosts: [{
      name: 'v',
      domains: ['*'],
      request_headers_to_add: [{ header: { key: 'x-vh', value: 'v' } }],
      routes: [
        { match: { prefix: '/api/' }, route: { cluster: 'api', prefix_rewrite: '/v2/', host_rewrite_literal: 'api.internal' } },
        { match: { prefix: '/' }, route: { cluster: 'web' } },
      ],
    }],
  };
  const bootstrap = {
    static_resources: {
      listeners: [httpListener({ routeConfig, hcm: { merge_slashes: true } })],
      clusters: [staticCluster('api', [api.port]), staticCluster('web', [web.port])],
    },
  };
  const tests = write({
    tests: [
      { test_name: 'api', input: { authority: 'a.test', path: '//api//x?q=1' }, validate: { cluster_name: 'api', path_rewrite: '/v2/x?q=1', host_rewrite: 'api.internal', request_header_matches: [{ name: 'x-vh', string_match: { exact: 'v' } }] } },
      { test_name: 'web', input: { authority: 'a.test', path: '/apix' }, validate: { cluster_name: 'web', path_rewrite: '/apix', host_rewrite: 'a.test' } },
    ],
  });
  const checked = run(['-c', write(bootstrap), '--tests', tests]);
  assert.equal(checked.code, 0, checked.out + checked.err);
  const s = await startSluice(bootstrap);
  try {
    const a = report((await request({ port: s.port(), path: '//api//x?q=1', headers: { host: 'a.test' } })).body);
    assert.deepEqual([a.name, a.url, a.header('host'), a.header('x-vh')], ['api', '/v2/x?q=1', 'api.internal', 'v']);
    const w = report((await request({ port: s.port(), path: '/apix', headers: { host: 'a.test' } })).body);
    assert.deepEqual([w.name, w.url, w.header('host')], ['web', '/apix', 'a.test']);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});
