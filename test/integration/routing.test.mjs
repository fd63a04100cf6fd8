// Routing end to end: which virtual host and route a request gets, what the
// upstream sees after rewrites and header mutations, and the local answers
// (redirects, direct responses). Local answers name their route in the body,
// so matching is asserted without a backend in the way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { startSluice, httpListener, staticCluster, routes } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { raw, rawBody, request } from './lib/http.mjs';

// A route that answers 200 with `body` itself.
const answer = (match, body) => ({ match, direct_response: { status: 200, body: { inline_string: body } } });

let alpha;
let beta;
const started = [];

async function sluiceWith(routeConfig, { hcm, clusters } = {}) {
  const s = await startSluice({
    static_resources: {
      listeners: [httpListener({ routeConfig, hcm })],
      clusters: clusters ?? [staticCluster('alpha', [alpha.port]), staticCluster('beta', [beta.port])],
    },
  });
  started.push(s);
  return s;
}

// The body of a GET with `headers`, asserting a 200.
async function bodyOf(s, path, headers = {}) {
  const res = await request({ port: s.port(), path, headers });
  assert.equal(res.status, 200, `${path} ${JSON.stringify(headers)}: ${res.status} ${res.body}`);
  return res.body;
}

// A port that is free right now (bound, learnt, released).
async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

before(async () => {
  alpha = await startBackend({ name: 'alpha' });
  beta = await startBackend({ name: 'beta' });
});

after(async () => {
  for (const s of started) assert.equal(await s.stop(), 0);
  await alpha?.close();
  await beta?.close();
});

// ---- virtual hosts ----

const domainTable = {
  virtual_hosts: [
    { name: 'exact', domains: ['api.example.com'], routes: [answer({ prefix: '/' }, 'exact')] },
    { name: 'suffix', domains: ['*.example.com'], routes: [answer({ prefix: '/' }, 'suffix')] },
    { name: 'longer-suffix', domains: ['*.eu.example.com'], routes: [answer({ prefix: '/' }, 'longer-suffix')] },
    { name: 'prefix', domains: ['api.*'], routes: [answer({ prefix: '/' }, 'prefix')] },
    { name: 'default', domains: ['*'], routes: [answer({ prefix: '/' }, 'default')] },
  ],
};

test('picks the virtual host by Host: exact, then longest *.suffix, then prefix.*, then *', async () => {
  const s = await sluiceWith(domainTable);
  const cases = {
    'api.example.com': 'exact', // also matches *.example.com and api.*
    'API.Example.COM': 'exact', // case-insensitive
    'www.example.com': 'suffix',
    'api.eu.example.com': 'longer-suffix', // *.eu.example.com is longer than *.example.com; beats api.*
    'api.example.org': 'prefix',
    '.example.com': 'default', // a wildcard stands for at least one character
    'example.com': 'default',
    'other.org': 'default',
  };
  for (const [host, vh] of Object.entries(cases)) {
    assert.equal(await bodyOf(s, '/', { host }), vh, host);
  }
});

test('matches the Host with its port unless told to strip it', async () => {
  const s = await sluiceWith(domainTable);
  assert.equal(await bodyOf(s, '/', { host: 'www.example.com:8080' }), 'default');
  assert.equal(await bodyOf(s, '/', { host: `www.example.com:${s.port()}` }), 'default');
});

test('strip_any_host_port ignores any port in the Host', async () => {
  const s = await sluiceWith(domainTable, { hcm: { strip_any_host_port: true } });
  assert.equal(await bodyOf(s, '/', { host: 'www.example.com:8080' }), 'suffix');
  assert.equal(await bodyOf(s, '/', { host: 'api.example.com:1' }), 'exact');
});

test('route_config.ignore_port_in_host_matching ignores any port in the Host when matching', async () => {
  const s = await sluiceWith({ ...domainTable, ignore_port_in_host_matching: true });
  assert.equal(await bodyOf(s, '/', { host: 'www.example.com:8080' }), 'suffix');
  assert.equal(await bodyOf(s, '/', { host: 'api.example.com:1' }), 'exact');
});

test('strip_any_host_port also strips the port from the Host the upstream sees', async () => {
  const s = await sluiceWith(routes([{ match: { prefix: '/' }, route: { cluster: 'alpha' } }]),
    { hcm: { strip_any_host_port: true } });
  const r = report((await request({ port: s.port(), headers: { host: 'www.example.com:8080' } })).body);
  assert.equal(r.header('host'), 'www.example.com');
});

test('strip_matching_host_port strips the listener\'s own port only (listener on a fixed port)', async () => {
  const port = await freePort();
  const s = await startSluice({
    static_resources: {
      listeners: [{
        ...httpListener({ routeConfig: domainTable, hcm: { strip_matching_host_port: true } }),
        address: { socket_address: { address: '127.0.0.1', port_value: port } },
      }],
      clusters: [],
    },
  });
  started.push(s);
  assert.equal(s.port(), port);
  assert.equal(await bodyOf(s, '/', { host: `www.example.com:${port}` }), 'suffix');
  assert.equal(await bodyOf(s, '/', { host: `www.example.com:${port + 1}` }), 'default');
});

test('strip_matching_host_port strips the port the kernel chose for a port-0 listener', async () => {
  const s = await sluiceWith(domainTable, { hcm: { strip_matching_host_port: true } });
  assert.equal(await bodyOf(s, '/', { host: `www.example.com:${s.port()}` }), 'suffix');
  assert.equal(await bodyOf(s, '/', { host: 'www.example.com:8080' }), 'default');
});

test('routes an absolute-form request by the host and path of its URL', async () => {
  const s = await sluiceWith(domainTable);
  const reply = await raw(s.port(),
    'GET http://www.example.com/abs?q=1 HTTP/1.1\r\nHost: ignored.org\r\nConnection: close\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 200 /);
  assert.equal(rawBody(reply), 'suffix'); // *.example.com, not the Host header's default
});

// ---- path matching ----

test('matches paths by prefix, exact path, regex, separated prefix and case-insensitively', async () => {
  const s = await sluiceWith(routes([
    answer({ path: '/exact' }, 'path'),
    answer({ safe_regex: { regex: '/items/[0-9]+' } }, 'regex'),
    answer({ path_separated_prefix: '/api' }, 'separated'),
    answer({ prefix: '/CaSe', case_sensitive: false }, 'nocase'),
    answer({ path: '/Strict' }, 'strict'),
    answer({ prefix: '/pre' }, 'prefix'),
    answer({ prefix: '/' }, 'fallback'),
  ]));
  const cases = {
    '/exact': 'path',
    '/exact?q=1': 'path', // the query is not part of the path
    '/exact/more': 'fallback',
    '/exactly': 'fallback',
    '/items/42': 'regex',
    '/items/42?sort=asc': 'regex',
    '/items/42/parts': 'fallback', // a full match, not a search
    '/items/x': 'fallback',
    '/api': 'separated',
    '/api/v1/users': 'separated',
    '/api?x=1': 'separated',
    '/apix': 'fallback',
    '/case/anything': 'nocase',
    '/CASE': 'nocase',
    '/Strict': 'strict',
    '/strict': 'fallback', // case-sensitive by default
    '/prefix/deep': 'prefix',
    '/pre': 'prefix',
  };
  for (const [path, route] of Object.entries(cases)) assert.equal(await bodyOf(s, path), route, path);
});

test('matches headers: exact, present, range and inverted', async () => {
  const s = await sluiceWith(routes([
    answer({ prefix: '/exact', headers: [{ name: 'x-env', string_match: { exact: 'prod' } }] }, 'exact'),
    answer({ prefix: '/present', headers: [{ name: 'x-debug', present_match: true }] }, 'present'),
    answer({ prefix: '/range', headers: [{ name: 'x-version', range_match: { start: 10, end: 20 } }] }, 'range'),
    answer({ prefix: '/invert', headers: [{ name: 'x-beta', string_match: { exact: 'yes' }, invert_match: true }] },
      'not-beta'),
    answer({ prefix: '/multi', headers: [{ name: 'x-env', string_match: { exact: 'prod,canary' } }] }, 'multi'),
    answer({ prefix: '/all', headers: [{ name: 'x-a', exact_match: '1' }, { name: 'x-b', prefix_match: 'go' }] },
      'all'),
    answer({ prefix: '/' }, 'none'),
  ]));
  assert.equal(await bodyOf(s, '/exact', { 'x-env': 'prod' }), 'exact');
  assert.equal(await bodyOf(s, '/exact', { 'x-env': 'production' }), 'none');
  assert.equal(await bodyOf(s, '/exact', { 'x-env': 'PROD' }), 'none');
  assert.equal(await bodyOf(s, '/exact'), 'none');

  assert.equal(await bodyOf(s, '/present', { 'x-debug': '' }), 'present');
  assert.equal(await bodyOf(s, '/present', { 'x-debug': 'anything' }), 'present');
  assert.equal(await bodyOf(s, '/present'), 'none');

  assert.equal(await bodyOf(s, '/range', { 'x-version': '10' }), 'range'); // [start, end)
  assert.equal(await bodyOf(s, '/range', { 'x-version': '19' }), 'range');
  assert.equal(await bodyOf(s, '/range', { 'x-version': '20' }), 'none');
  assert.equal(await bodyOf(s, '/range', { 'x-version': '9' }), 'none');
  assert.equal(await bodyOf(s, '/range', { 'x-version': '1x' }), 'none');
  assert.equal(await bodyOf(s, '/range'), 'none');

  assert.equal(await bodyOf(s, '/invert', { 'x-beta': 'no' }), 'not-beta');
  assert.equal(await bodyOf(s, '/invert'), 'not-beta'); // absent, inverted: Envoy matches
  assert.equal(await bodyOf(s, '/invert', { 'x-beta': 'yes' }), 'none');

  // A repeated header is matched as its values joined with ',', as Envoy does.
  assert.equal(await bodyOf(s, '/exact', { 'x-env': ['prod', 'prod'] }), 'none');
  assert.equal(await bodyOf(s, '/multi', { 'x-env': ['prod', 'canary'] }), 'multi');

  assert.equal(await bodyOf(s, '/all', { 'x-a': '1', 'x-b': 'gopher' }), 'all'); // every matcher must match
  assert.equal(await bodyOf(s, '/all', { 'x-a': '1', 'x-b': 'stop' }), 'none');
  assert.equal(await bodyOf(s, '/all', { 'x-b': 'gopher' }), 'none');
});

test('matches query parameters by value and by presence', async () => {
  const s = await sluiceWith(routes([
    answer({ prefix: '/q', query_parameters: [{ name: 'debug', string_match: { exact: '1' } }] }, 'debug'),
    answer({ prefix: '/q', query_parameters: [{ name: 'flag', present_match: true }] }, 'flag'),
    answer({ prefix: '/' }, 'none'),
  ]));
  assert.equal(await bodyOf(s, '/q?debug=1'), 'debug');
  assert.equal(await bodyOf(s, '/q?a=b&debug=1&c'), 'debug');
  assert.equal(await bodyOf(s, '/q?debug=10'), 'none');
  assert.equal(await bodyOf(s, '/q?xdebug=1'), 'none');
  assert.equal(await bodyOf(s, '/q?flag'), 'flag');
  assert.equal(await bodyOf(s, '/q?x=1&flag=on'), 'flag');
  assert.equal(await bodyOf(s, '/q'), 'none');
});

test('matches a cookie through a header matcher on cookie', async () => {
  const s = await sluiceWith(routes([
    answer({
      prefix: '/',
      headers: [{ name: 'cookie', string_match: { safe_regex: { regex: '(.*;\\s*)?session=abc(;.*)?' } } }],
    }, 'session-abc'),
    answer({ prefix: '/' }, 'none'),
  ]));
  assert.equal(await bodyOf(s, '/', { cookie: 'session=abc' }), 'session-abc');
  assert.equal(await bodyOf(s, '/', { cookie: 'theme=dark; session=abc; lang=en' }), 'session-abc');
  assert.equal(await bodyOf(s, '/', { cookie: 'session=abcd' }), 'none');
  assert.equal(await bodyOf(s, '/', { cookie: 'xsession=abc' }), 'none');
  assert.equal(await bodyOf(s, '/'), 'none');
});

// ---- forwarding: cluster choice and rewrites ----

test('cluster_header picks the cluster a request header names; unknown or missing gives 503', async () => {
  const s = await sluiceWith(routes([{ match: { prefix: '/' }, route: { cluster_header: 'x-cluster' } }]));
  const to = async (cluster) => request({ port: s.port(), headers: cluster ? { 'x-cluster': cluster } : {} });
  assert.equal(report((await to('alpha')).body).name, 'alpha');
  assert.equal(report((await to('beta')).body).name, 'beta');
  assert.equal((await to('gamma')).status, 503);
  assert.equal((await to(undefined)).status, 503);
});

test('prefix_rewrite and regex_rewrite change the path and keep the query', async () => {
  const s = await sluiceWith(routes([
    { match: { prefix: '/old/' }, route: { cluster: 'alpha', prefix_rewrite: '/new/' } },
    { match: { prefix: '/strip' }, route: { cluster: 'alpha', prefix_rewrite: '/' } },
    {
      match: { prefix: '/swap/' },
      route: { cluster: 'alpha', regex_rewrite: { pattern: { regex: '^/swap/(\\w+)/(\\w+)$' }, substitution: '/\\2/\\1' } },
    },
  ]));
  const url = async (path) => report((await request({ port: s.port(), path })).body).url;
  assert.equal(await url('/old/page?x=1&y=2'), '/new/page?x=1&y=2');
  assert.equal(await url('/old/'), '/new/');
  assert.equal(await url('/strip/rest?k=v'), '//rest?k=v'); // Envoy's prefix_rewrite is a plain substitution
  assert.equal(await url('/swap/first/second?k=v'), '/second/first?k=v');
  assert.equal(await url('/swap/a/b/c'), '/swap/a/b/c'); // no match: unchanged
});

test('host_rewrite_literal replaces the Host the upstream sees', async () => {
  const s = await sluiceWith(routes([
    { match: { prefix: '/' }, route: { cluster: 'alpha', host_rewrite_literal: 'internal.example' } },
  ]));
  const r = report((await request({ port: s.port(), headers: { host: 'public.example' } })).body);
  assert.equal(r.header('host'), 'internal.example');
});

// ---- local answers ----

test('redirects with the exact Location and status', async () => {
  const s = await sluiceWith(routes([
    { match: { prefix: '/to-https' }, redirect: { https_redirect: true } },
    {
      match: { prefix: '/elsewhere' },
      redirect: { host_redirect: 'new.example', port_redirect: 8443, path_redirect: '/landing' },
    },
    { match: { prefix: '/found' }, redirect: { path_redirect: '/f', response_code: 'FOUND' } },
    { match: { prefix: '/see-other' }, redirect: { path_redirect: '/s', response_code: 'SEE_OTHER' } },
    { match: { prefix: '/temporary' }, redirect: { path_redirect: '/t', response_code: 'TEMPORARY_REDIRECT' } },
    { match: { prefix: '/permanent' }, redirect: { path_redirect: '/p', response_code: 'PERMANENT_REDIRECT' } },
    { match: { prefix: '/legacy/' }, redirect: { prefix_rewrite: '/modern/' } },
    { match: { prefix: '/private/' }, redirect: { prefix_rewrite: '/public/', strip_query: true } },
    { match: { prefix: '/q-in-path' }, redirect: { path_redirect: '/target?fixed=1' } },
  ]));
  const cases = [
    ['/to-https?a=1', 301, 'https://www.example.com/to-https?a=1'],
    ['/elsewhere?x=1', 301, 'http://new.example:8443/landing?x=1'],
    ['/found', 302, 'http://www.example.com/f'],
    ['/see-other', 303, 'http://www.example.com/s'],
    ['/temporary', 307, 'http://www.example.com/t'],
    ['/permanent', 308, 'http://www.example.com/p'],
    ['/legacy/page?a=1', 301, 'http://www.example.com/modern/page?a=1'],
    ['/private/doc?token=secret', 301, 'http://www.example.com/public/doc'],
    ['/q-in-path?other=2', 301, 'http://www.example.com/target?fixed=1'],
  ];
  for (const [path, status, location] of cases) {
    const res = await request({ port: s.port(), path, headers: { host: 'www.example.com' } });
    assert.equal(res.status, status, path);
    assert.equal(res.headers.location, location, path);
    assert.equal(res.body, '', path);
  }
  // https_redirect keeps a non-default port and drops http's default one.
  const redirect = async (host) => (await request({ port: s.port(), path: '/to-https', headers: { host } })).headers.location;
  assert.equal(await redirect('www.example.com:8080'), 'https://www.example.com:8080/to-https');
  assert.equal(await redirect('www.example.com:80'), 'https://www.example.com/to-https');
});

test('direct_response answers with its status and body', async () => {
  const s = await sluiceWith(routes([
    { match: { path: '/hello' }, direct_response: { status: 200, body: { inline_string: 'hello, world' } } },
    { match: { path: '/teapot' }, direct_response: { status: 418, body: { inline_string: 'short and stout' } } },
    { match: { path: '/empty' }, direct_response: { status: 503 } },
  ]));
  const hello = await request({ port: s.port(), path: '/hello' });
  assert.equal(hello.status, 200);
  assert.equal(hello.body, 'hello, world');
  assert.equal(hello.headers['content-length'], '12');
  assert.equal(hello.headers['content-type'], 'text/plain');
  const teapot = await request({ port: s.port(), path: '/teapot' });
  assert.equal(teapot.status, 418);
  assert.equal(teapot.body, 'short and stout');
  const empty = await request({ port: s.port(), path: '/empty' });
  assert.equal(empty.status, 503);
  assert.equal(empty.body, '');
});

// ---- header mutations ----

const add = (key, value) => ({ header: { key, value } });
const overwrite = (key, value) => ({ header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });

test('adds and removes request and response headers at route, virtual host and route config level', async () => {
  const s = await sluiceWith({
    request_headers_to_add: [add('x-config', 'c'), add('x-level', 'config'), overwrite('x-owner', 'config')],
    request_headers_to_remove: ['x-drop-config'],
    response_headers_to_add: [add('x-resp-config', 'c'), add('x-resp-level', 'config')],
    response_headers_to_remove: ['x-envoy-upstream-service-time'],
    virtual_hosts: [{
      name: 'all',
      domains: ['*'],
      request_headers_to_add: [add('x-vh', 'v'), add('x-level', 'vhost')],
      request_headers_to_remove: ['x-drop-vh'],
      response_headers_to_add: [add('x-resp-vh', 'v'), add('x-resp-level', 'vhost')],
      response_headers_to_remove: ['content-type'],
      routes: [
        {
          match: { prefix: '/local' },
          direct_response: { status: 200, body: { inline_string: 'local' } },
          response_headers_to_add: [add('x-resp-route', 'r')],
        },
        {
          match: { prefix: '/' },
          route: { cluster: 'alpha' },
          request_headers_to_add: [add('x-route', 'r'), add('x-level', 'route'), overwrite('x-owner', 'route')],
          request_headers_to_remove: ['x-drop-route'],
          response_headers_to_add: [add('x-resp-route', 'r'), add('x-resp-level', 'route')],
          response_headers_to_remove: ['x-backend'],
        },
      ],
    }],
  });
  const res = await request({
    port: s.port(),
    headers: { 'x-drop-route': '1', 'x-drop-vh': '1', 'x-drop-config': '1', 'x-owner': 'client', 'x-kept': 'k' },
  });
  assert.equal(res.status, 200);
  const r = report(res.body);
  // What the upstream saw.
  assert.equal(r.header('x-route'), 'r');
  assert.equal(r.header('x-vh'), 'v');
  assert.equal(r.header('x-config'), 'c');
  assert.equal(r.header('x-level'), 'route,vhost,config'); // route first, then virtual host, then route config
  assert.equal(r.header('x-owner'), 'config'); // the outermost overwrite lands last
  assert.equal(r.header('x-drop-route'), undefined);
  assert.equal(r.header('x-drop-vh'), undefined);
  assert.equal(r.header('x-drop-config'), undefined);
  assert.equal(r.header('x-kept'), 'k');
  // What the client saw.
  assert.equal(res.headers['x-resp-route'], 'r');
  assert.equal(res.headers['x-resp-vh'], 'v');
  assert.equal(res.headers['x-resp-config'], 'c');
  assert.equal(res.headers['x-resp-level'], 'route, vhost, config'); // Node joins repeated fields with ', '
  assert.equal(res.headers['x-backend'], undefined);
  assert.equal(res.headers['content-type'], undefined);
  assert.equal(res.headers['x-envoy-upstream-service-time'], undefined);

  // Local answers get the response mutations too.
  const local = await request({ port: s.port(), path: '/local' });
  assert.equal(local.body, 'local');
  assert.equal(local.headers['x-resp-route'], 'r');
  assert.equal(local.headers['x-resp-vh'], 'v');
  assert.equal(local.headers['x-resp-config'], 'c');
});

test('adds a route\'s response headers to the error replies sluice makes for it', async () => {
  const s = await sluiceWith(routes([{
    match: { prefix: '/' },
    route: { cluster: 'empty' },
    response_headers_to_add: [add('x-served-by', 'edge-1')],
  }], { response_headers_to_add: [add('x-vh', 'v')] }), {
    clusters: [{
      name: 'empty',
      type: 'STRICT_DNS',
      load_assignment: {
        cluster_name: 'empty',
        endpoints: [{
          lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'nothing.invalid', port_value: 80 } } } }],
        }],
      },
    }],
  });
  const res = await request({ port: s.port() });
  assert.equal(res.status, 503);
  assert.equal(res.body, 'no healthy upstream');
  assert.equal(res.headers['x-served-by'], 'edge-1');
  assert.equal(res.headers['x-vh'], 'v');
});

// ---- weighted clusters ----

test('weighted_clusters splits 50/50 over 2,000 requests', async (t) => {
  const s = await sluiceWith(routes([{
    match: { prefix: '/' },
    route: { weighted_clusters: { clusters: [{ name: 'alpha', weight: 50 }, { name: 'beta', weight: 50 }] } },
  }]));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const counts = { alpha: 0, beta: 0 };
  try {
    const total = 2000;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        next += 1;
        const res = await request({ port: s.port(), path: '/status/204', agent });
        counts[res.headers['x-backend']] += 1;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    agent.destroy();
  }
  // n = 2000, p = 0.5: sd = 22.4, so 800..1200 is about 9 sd either way.
  assert.equal(counts.alpha + counts.beta, 2000);
  for (const name of ['alpha', 'beta']) {
    assert.ok(counts[name] >= 800 && counts[name] <= 1200, JSON.stringify(counts));
  }
  t.diagnostic(`weighted_clusters 50/50 over 2000 requests: ${JSON.stringify(counts)}`);
});
