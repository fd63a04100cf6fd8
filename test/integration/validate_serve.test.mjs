// `--mode validate` refuses every config serve refuses, with the same errors
// (server::checkConfig, docs/ARCHITECTURE.md "sluice_main.cc"): one bootstrap
// per thing only the compile sees (an RE2 regex, a format string, an
// access-log filter, a header mutation, a stats matcher, a file-based LDS
// resource...). Each is run through the real binary twice: validate must exit
// 1, serve must exit 1 before it starts, and both must print the same error
// lines, which name the field.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SLUICE, startSluice, httpListener, routes } from './lib/sluice.mjs';

const dir = mkdtempSync(join(tmpdir(), 'sluice-validate-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const direct = { match: { prefix: '/' }, direct_response: { status: 200 } };
const listenerWith = (routeConfig, hcm = {}) => ({ static_resources: { listeners: [httpListener({ routeConfig, hcm })] } });
const fileLog = (extra) => ({
  name: 'envoy.access_loggers.file',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
    path: join(dir, 'access.log'),
    ...extra,
  },
});

// The lines of `stderr` that name a config error (`<path>: <message>`), without
// the log line's prefix where serve logs one.
function errorLines(stderr) {
  return stderr.split('\n').map((l) => l.trim().replace(/^\[.*\] sluice: /, '')).filter((l) => /^(static_resources|stats_config|dynamic_resources|layered_runtime|listener '|cluster ')\S*: /.test(l));
}

const ldsFile = join(dir, 'lds.yaml');
writeFileSync(ldsFile, JSON.stringify({
  resources: [{
    '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
    ...httpListener({ name: 'from-lds', routeConfig: routes([{ match: { safe_regex: { regex: 'a(' } }, direct_response: { status: 200 } }]) }),
  }],
}));

const cases = [
  {
    name: 'an invalid RE2 regex in a route match',
    bootstrap: listenerWith(routes([{ match: { safe_regex: { regex: '(' } }, direct_response: { status: 200 } }])),
    error: `${HCM}.route_config.virtual_hosts[0].routes[0].match.safe_regex.regex: invalid RE2 pattern: missing ): (`,
  },
  {
    name: 'an invalid RE2 regex in a header matcher',
    bootstrap: listenerWith(routes([{
      match: { prefix: '/', headers: [{ name: 'x', safe_regex_match: { regex: '[z-a]' } }] },
      direct_response: { status: 200 },
    }])),
    error: `${HCM}.route_config.virtual_hosts[0].routes[0].match.headers[0].safe_regex_match.regex: invalid RE2 pattern: `,
  },
  {
    name: 'an invalid regex_rewrite substitution',
    bootstrap: {
      static_resources: {
        listeners: [httpListener({
          routeConfig: routes([{
            match: { prefix: '/' },
            route: { cluster: 'c', regex_rewrite: { pattern: { regex: 'a' }, substitution: '\\9' } },
          }]),
        })],
        clusters: [{ name: 'c', connect_timeout: '1s', load_assignment: { cluster_name: 'c', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 1 } } } }] }] } }],
      },
    },
    error: `${HCM}.route_config.virtual_hosts[0].routes[0].route.regex_rewrite.substitution: invalid substitution: `,
  },
  {
    name: 'a header mutation of a pseudo-header',
    bootstrap: listenerWith(routes([direct], { request_headers_to_add: [{ header: { key: ':path', value: '/x' } }] })),
    error: `${HCM}.route_config.virtual_hosts[0].request_headers_to_add[0].header.key: ':path': pseudo-headers and host may not be modified`,
  },
  {
    name: 'a domain used by two virtual hosts',
    bootstrap: listenerWith({
      virtual_hosts: [
        { name: 'a', domains: ['example.com'], routes: [direct] },
        { name: 'b', domains: ['EXAMPLE.com'], routes: [direct] },
      ],
    }),
    error: `${HCM}.route_config.virtual_hosts[1].domains[0]: domain 'EXAMPLE.com' is already used by virtual host 'a'`,
  },
  {
    name: 'a direct response body over max_direct_response_body_size_bytes',
    bootstrap: listenerWith({
      max_direct_response_body_size_bytes: 4,
      virtual_hosts: [{ name: 'a', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'too long' } } }] }],
    }),
    error: `${HCM}.route_config.virtual_hosts[0].routes[0].direct_response.body: the body is 8 bytes; the limit is 4`,
  },
  {
    name: 'an unknown access-log command operator',
    bootstrap: listenerWith(routes([direct]), {
      access_log: [fileLog({ log_format: { text_format_source: { inline_string: '%NO_SUCH_OPERATOR%\n' } } })],
    }),
    error: `${HCM}.access_log[0].typed_config.log_format.text_format_source.inline_string: `,
  },
  {
    name: 'an access-log filter with no filter in it',
    bootstrap: listenerWith(routes([direct]), {
      access_log: [{ ...fileLog({}), filter: { and_filter: { filters: [{ status_code_filter: { comparison: { value: { default_value: 200, runtime_key: 'k' } } } }, {}] } } }],
    }),
    error: `${HCM}.access_log[0].filter.and_filter.filters[1].filter_specifier: one of `,
  },
  {
    name: 'an invalid RE2 regex in the stats matcher',
    bootstrap: {
      ...listenerWith(routes([direct])),
      stats_config: { stats_matcher: { inclusion_list: { patterns: [{ safe_regex: { regex: '(' } }] } } },
    },
    error: 'stats_config.stats_matcher.inclusion_list.patterns[0].safe_regex.regex: invalid RE2 pattern: missing ): (',
  },
  {
    name: 'an invalid RE2 regex in a file-based LDS listener',
    bootstrap: { dynamic_resources: { lds_config: { path_config_source: { path: ldsFile }, resource_api_version: 'V3' } } },
    // A file resource is named, not indexed in the merged list the user never wrote.
    error: "listener 'from-lds'.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].match.safe_regex.regex: invalid RE2 pattern: missing ): a(",
  },
  {
    name: 'a runtime disk layer in a directory that does not exist',
    bootstrap: {
      ...listenerWith(routes([direct])),
      layered_runtime: { layers: [{ name: 'disk', disk_layer: { symlink_root: join(dir, 'missing', 'current') } }] },
    },
    error: `layered_runtime.layers[0].disk_layer.symlink_root: cannot watch '${join(dir, 'missing')}': No such file or directory`,
    // Serve names the directory, not the field (config::FileWatcher).
    serveError: `cannot watch '${join(dir, 'missing')}': No such file or directory`,
  },
];

for (const c of cases) {
  test(`validate and serve both refuse ${c.name}, with the same error`, async () => {
    const file = join(dir, `${c.name.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(c.bootstrap));
    const validate = spawnSync(SLUICE, ['--mode', 'validate', '-c', file], { encoding: 'utf8', timeout: 30000 });
    assert.equal(validate.status, 1, `validate said:\n${validate.stdout}${validate.stderr}`);

    let served = null;
    try {
      const s = await startSluice(c.bootstrap, { concurrency: 1 });
      await s.stop();
    } catch (e) {
      served = e.message;  // "sluice exited with N:" and its stderr
    }
    assert.ok(served !== null, 'serve started');
    assert.match(served, /^sluice exited with 1:/);
    const validated = errorLines(validate.stderr);
    assert.ok(validated.some((l) => l.startsWith(c.error)), `validate:\n${validate.stderr}\nwants: ${c.error}`);
    if (c.serveError) {
      assert.ok(served.includes(c.serveError), `serve:\n${served}\nwants: ${c.serveError}`);
      return;
    }
    assert.deepEqual(validated, errorLines(served), `validate:\n${validate.stderr}\nserve:\n${served}`);
  });
}
