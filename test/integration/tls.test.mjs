// TLS termination (transport_socket envoy.transport_sockets.tls): real
// handshakes by curl, openssl s_client and Node against sluice; certificates
// made by openssl into a temporary directory for this run (no key is ever
// committed). Certificate choice (RSA or ECDSA), ALPN, versions, ciphers,
// client certificates with the ssl.* stat of each refusal, x-forwarded-proto,
// access-log operators, WebSockets over TLS, a partial or hostile ClientHello,
// a handshake timeout, and config errors by name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startSluice, httpListener, staticCluster, routes, SLUICE } from './lib/sluice.mjs';
import { startBackend, report } from './lib/backend.mjs';
import { until } from './lib/control.mjs';

const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
const file = (name) => join(dir, name);
let backend;
const started = [];

function openssl(args) {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

// A CA, then a key and a certificate it signs: `name`.key and `name`.crt.
function makeCa(name) {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`)]);
}
function makeCert(name, { ca = 'ca', key = 'rsa', subject = `/CN=${name}`, san }) {
  const keyArgs = key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl(['req', ...keyArgs, '-nodes', '-subj', subject, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`)]);
  writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\n`);
  openssl(['x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.crt`), '-CAkey', file(`${ca}.key`),
    '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`)]);
}

const tlsSocket = (context) => ({
  name: 'envoy.transport_sockets.tls',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    ...context,
  },
});
const certificates = (...names) => names.map((n) => ({
  certificate_chain: { filename: file(`${n}.crt`) },
  private_key: { filename: file(`${n}.key`) },
}));

const accessLog = (path) => ({
  access_log: [{
    name: 'envoy.access_loggers.file',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      path,
      log_format: {
        text_format_source: {
          inline_string: '%DOWNSTREAM_TLS_VERSION%|%DOWNSTREAM_TLS_CIPHER%|%REQUESTED_SERVER_NAME%|' +
            '%DOWNSTREAM_PEER_SUBJECT%|%DOWNSTREAM_PEER_URI_SAN%|%REQ(:SCHEME)%|%REQ(:PATH)%\n',
        },
      },
    },
  }],
});

// Each listener has a loopback address of its own, so its listener.<address>.*
// stats are its own (port 0 is part of the stat name).
const addresses = new Map();
const addressOf = (name) => {
  if (!addresses.has(name)) addresses.set(name, `127.0.1.${addresses.size + 1}`);
  return addresses.get(name);
};

// A listener on one filter chain with `context` (null: plain TCP), proxying to the backend.
function listener(name, context, { chain = {}, hcm = {} } = {}) {
  const l = httpListener({
    name,
    routeConfig: routes([{ match: { prefix: '/' }, route: { cluster: 'backend' } }]),
    hcm: { upgrade_configs: [{ upgrade_type: 'websocket' }], ...accessLog(file(`${name}.log`)), ...hcm },
  });
  l.address.socket_address.address = addressOf(name);
  if (context) l.filter_chains[0].transport_socket = tlsSocket(context);
  Object.assign(l.filter_chains[0], chain);
  return l;
}

let sluice;

before(async () => {
  makeCa('ca');
  makeCa('rogue-ca');
  makeCert('server-rsa', { key: 'rsa', san: 'DNS:example.com' });
  makeCert('server-ec', { key: 'ec', san: 'DNS:example.com' });
  makeCert('client-good', { key: 'ec', subject: '/O=sluice/CN=good', san: 'URI:spiffe://sluice/good' });
  makeCert('client-other', { key: 'ec', subject: '/CN=other', san: 'URI:spiffe://sluice/other' });
  makeCert('client-rogue', { ca: 'rogue-ca', key: 'ec', subject: '/CN=rogue', san: 'URI:spiffe://sluice/good' });
  backend = await startBackend({ name: 'backend', websocket: true });
  sluice = await startSluice({
    static_resources: {
      listeners: [
        listener('both', { common_tls_context: { tls_certificates: certificates('server-rsa', 'server-ec'),
          alpn_protocols: ['http/1.1'] } }),
        listener('tls13', {
          common_tls_context: {
            tls_certificates: certificates('server-ec'),
            tls_params: { tls_minimum_protocol_version: 'TLSv1_3', tls_maximum_protocol_version: 'TLSv1_3' },
          },
        }),
        listener('tls12', {
          common_tls_context: {
            tls_certificates: certificates('server-rsa'),
            tls_params: { tls_maximum_protocol_version: 'TLSv1_2', cipher_suites: ['[ECDHE-RSA-AES256-GCM-SHA384|ECDHE-RSA-CHACHA20-POLY1305]'],
              ecdh_curves: ['P-256'] },
          },
        }),
        listener('mtls', {
          require_client_certificate: true,
          common_tls_context: {
            tls_certificates: certificates('server-ec'),
            validation_context: {
              trusted_ca: { filename: file('ca.crt') },
              match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: 'spiffe://sluice/good' } }],
            },
          },
        }),
        listener('optional-client-cert', {
          common_tls_context: {
            tls_certificates: certificates('server-ec'),
            validation_context: { trusted_ca: { inline_string: readFileSync(file('ca.crt'), 'utf8') } },
          },
        }),
        listener('slow', { common_tls_context: { tls_certificates: certificates('server-ec') } },
          { chain: { transport_socket_connect_timeout: '0.3s' } }),
        listener('plain', null),
      ],
      clusters: [staticCluster('backend', [backend.port])],
    },
  });
  started.push(sluice);
});

after(async () => {
  for (const s of started) assert.equal(await s.stop(), 0);
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

// curl against listener `name` as example.com; resolves { code, stdout, stderr }.
function curl(name, args = [], path = '/') {
  const port = sluice.port(name);
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--resolve', `example.com:${port}:${addressOf(name)}`, '--cacert', file('ca.crt'),
      ...args, `https://example.com:${port}${path}`], { encoding: 'utf8' },
    (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

// openssl s_client against listener `name`; resolves { code, out } (stdout and stderr).
function sClient(name, args = []) {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `${addressOf(name)}:${sluice.port(name)}`,
      '-servername', 'example.com', '-CAfile', file('ca.crt'), ...args], { encoding: 'utf8' },
    (error, stdout, stderr) => resolve({ code: error ? error.code : 0, out: stdout + stderr }));
    child.stdin.end();
  });
}

const stat = (listenerName, name) => sluice.stat(`listener.${addressOf(listenerName)}_0.${name}`);
async function statReaches(listenerName, name, value) {
  await until(async () => (await stat(listenerName, name)) === value, `${name} = ${value}`);
}

function logLines(name) {
  const path = file(`${name}.log`);
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l) : [];
}

test('proxies HTTPS requests: x-forwarded-proto https, handshake and version stats, the TLS access-log operators', async () => {
  const res = await curl('both', ['--http1.1', '--tlsv1.3'], '/hello');
  assert.equal(res.code, 0, res.stderr);
  const r = report(res.stdout);
  assert.equal(r.url, '/hello');
  assert.equal(r.header('x-forwarded-proto'), 'https');
  await statReaches('both', 'ssl.handshake', 1);
  assert.equal(await stat('both', 'ssl.versions.TLSv1.3'), 1);
  assert.equal(await stat('both', 'ssl.no_certificate'), 1);
  assert.equal(await stat('both', 'ssl.curves.X25519'), 1);
  // Envoy's TLS 1.3 preference (BoringSSL's): AES-128-GCM first.
  assert.equal(await stat('both', 'ssl.ciphers.TLS_AES_128_GCM_SHA256'), 1);
  await until(() => logLines('both').length === 1, 'the access-log line');
  assert.equal(logLines('both')[0], 'TLSv1.3|TLS_AES_128_GCM_SHA256|example.com|-|-|https|/hello');
});

test('a plain TCP listener keeps http: x-forwarded-proto http and "-" for the TLS operators', async () => {
  const port = sluice.port('plain');
  const res = await new Promise((resolve) => execFile('curl', ['-sS', `http://${addressOf('plain')}:${port}/plain`],
    { encoding: 'utf8' }, (error, stdout) => resolve({ error, stdout })));
  assert.ifError(res.error);
  assert.equal(report(res.stdout).header('x-forwarded-proto'), 'http');
  await until(() => logLines('plain').length === 1, 'the access-log line');
  assert.equal(logLines('plain')[0], '-|-|-|-|-|http|/plain');
  assert.equal(await stat('plain', 'ssl.handshake'), undefined);
});

test('picks the ECDSA or the RSA certificate by what the client can verify', async () => {
  const ecdsa = await sClient('both', ['-tls1_3', '-sigalgs', 'ECDSA+SHA256']);
  assert.equal(ecdsa.code, 0, ecdsa.out);
  assert.match(ecdsa.out, /Server public key is 256 bit/);
  const rsa = await sClient('both', ['-tls1_3', '-sigalgs', 'RSA-PSS+SHA256']);
  assert.equal(rsa.code, 0, rsa.out);
  assert.match(rsa.out, /Server public key is 2048 bit/);
  // TLS 1.2: the cipher's authentication decides.
  const rsa12 = await sClient('both', ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']);
  assert.match(rsa12.out, /Server public key is 2048 bit/);
  const ec12 = await sClient('both', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
  assert.match(ec12.out, /Server public key is 256 bit/);
  assert.match(ec12.out, /Verify return code: 0 \(ok\)/);
});

test('ALPN: http/1.1 is chosen when offered; a client offering only h2 goes on without ALPN', async () => {
  const both = await sClient('both', ['-alpn', 'h2,http/1.1']);
  assert.match(both.out, /ALPN protocol: http\/1\.1/);
  const h2 = await sClient('both', ['-alpn', 'h2']);
  assert.equal(h2.code, 0, h2.out);
  assert.match(h2.out, /No ALPN negotiated/);
  // curl offers h2 and http/1.1 and speaks HTTP/1.1.
  const res = await curl('both', ['-v']);
  assert.match(res.stderr, /ALPN: server accepted http\/1\.1/);
});

test('tls_minimum/maximum_protocol_version refuse other versions, counted as ssl.connection_error', async () => {
  const before12 = await stat('tls13', 'ssl.connection_error');
  const refused = await sClient('tls13', ['-tls1_2']);
  assert.notEqual(refused.code, 0);
  await statReaches('tls13', 'ssl.connection_error', before12 + 1);
  const ok = await curl('tls13', ['--tlsv1.3']);
  assert.equal(ok.code, 0, ok.stderr);
  await statReaches('tls13', 'ssl.versions.TLSv1.3', 1);

  const refused13 = await sClient('tls12', ['-tls1_3']);
  assert.notEqual(refused13.code, 0);
  await statReaches('tls12', 'ssl.connection_error', 1);
});

test('cipher_suites (with an equal-preference group) and ecdh_curves limit the TLS 1.2 handshake', async () => {
  const ok = await curl('tls12', ['--ciphers', 'ECDHE-RSA-CHACHA20-POLY1305']);
  assert.equal(ok.code, 0, ok.stderr);
  await statReaches('tls12', 'ssl.ciphers.ECDHE-RSA-CHACHA20-POLY1305', 1);
  assert.equal(await stat('tls12', 'ssl.curves.P-256'), 1);
  const before = await stat('tls12', 'ssl.connection_error');
  const refused = await curl('tls12', ['--ciphers', 'ECDHE-RSA-AES128-GCM-SHA256']);
  assert.notEqual(refused.code, 0);
  await statReaches('tls12', 'ssl.connection_error', before + 1);
  const x25519 = await sClient('tls12', ['-groups', 'X25519']);
  assert.notEqual(x25519.code, 0, 'the X25519-only client was served');
});

test('require_client_certificate: no certificate, an unknown CA and a wrong SAN are refused, each with its stat', async () => {
  const none = await curl('mtls');
  assert.notEqual(none.code, 0);
  await statReaches('mtls', 'ssl.fail_verify_no_cert', 1);

  const rogue = await curl('mtls', ['--cert', file('client-rogue.crt'), '--key', file('client-rogue.key')]);
  assert.notEqual(rogue.code, 0);
  await statReaches('mtls', 'ssl.fail_verify_error', 1);

  const other = await curl('mtls', ['--cert', file('client-other.crt'), '--key', file('client-other.key')]);
  assert.notEqual(other.code, 0);
  await statReaches('mtls', 'ssl.fail_verify_san', 1);
  await statReaches('mtls', 'ssl.connection_error', 3);
  assert.equal(await stat('mtls', 'ssl.handshake'), 0);

  const good = await curl('mtls', ['--cert', file('client-good.crt'), '--key', file('client-good.key')], '/mine');
  assert.equal(good.code, 0, good.stderr);
  await statReaches('mtls', 'ssl.handshake', 1);
  assert.equal(await stat('mtls', 'ssl.no_certificate'), 0);
  await until(() => logLines('mtls').length === 1, 'the access-log line');
  const [, , , subject, uriSan] = logLines('mtls')[0].split('|');
  assert.equal(subject, 'CN=good,O=sluice');
  assert.equal(uriSan, 'spiffe://sluice/good');
});

test('a validation_context without require_client_certificate verifies a certificate that is sent', async () => {
  const none = await curl('optional-client-cert');
  assert.equal(none.code, 0, none.stderr);
  await statReaches('optional-client-cert', 'ssl.no_certificate', 1);
  const rogue = await curl('optional-client-cert', ['--cert', file('client-rogue.crt'), '--key', file('client-rogue.key')]);
  assert.notEqual(rogue.code, 0);
  await statReaches('optional-client-cert', 'ssl.fail_verify_error', 1);
  const good = await curl('optional-client-cert', ['--cert', file('client-good.crt'), '--key', file('client-good.key')]);
  assert.equal(good.code, 0, good.stderr);
  await statReaches('optional-client-cert', 'ssl.handshake', 2);
});

test('WebSockets over TLS: wss:// upgrades and echoes both ways', async () => {
  const ws = new WebSocket(`wss://example.com:${sluice.port('both')}/chat`, {
    ca: readFileSync(file('ca.crt')),
    lookup: (host, options, cb) => cb(null, [{ address: addressOf('both'), family: 4 }]),
  });
  await once(ws, 'open');
  ws.send('over tls');
  const [text] = await once(ws, 'message');
  assert.equal(text.toString(), 'over tls');
  const big = Buffer.alloc(200_000, 7);
  ws.send(big);
  const [data] = await once(ws, 'message');
  assert.equal(Buffer.compare(data, big), 0);
  ws.close(1000, 'done');
  const [code] = await once(ws, 'close');
  assert.equal(code, 1000);
});

// A raw TCP client that writes `bytes` and resolves when sluice closes the connection.
async function rawClose(name, bytes) {
  const socket = net.connect(sluice.port(name), addressOf(name));
  await once(socket, 'connect');
  socket.on('error', () => {});
  const closed = once(socket, 'close');
  socket.resume();
  socket.write(bytes);
  await closed;
}

test('a partial ClientHello is cut at transport_socket_connect_timeout, with its counter', async () => {
  const start = Date.now();
  // A TLS record header announcing 512 bytes, then nothing.
  await rawClose('slow', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
  assert.ok(Date.now() - start >= 250, 'closed before the timeout');
  await statReaches('slow', 'downstream_cx_transport_socket_connect_timeout', 1);
  assert.equal(await stat('slow', 'ssl.handshake'), 0);
  // A full handshake on the same listener is unaffected.
  const ok = await curl('slow');
  assert.equal(ok.code, 0, ok.stderr);
});

test('a hostile ClientHello fails the handshake cleanly and the listener keeps serving', async () => {
  const before = await stat('both', 'ssl.connection_error');
  // Plain HTTP on a TLS port, then a record claiming a ClientHello with absurd lengths.
  await rawClose('both', Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
  const bogus = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0xff, 0xff, 0xff]),
    Buffer.alloc(0x3c, 0xff)]);
  await rawClose('both', bogus);
  await statReaches('both', 'ssl.connection_error', before + 2);
  const ok = await curl('both');
  assert.equal(ok.code, 0, ok.stderr);
});

// --- config errors (--mode validate runs serve's compile) ---

function validate(context, chain = {}) {
  const config = file(`validate-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(config, JSON.stringify({
    static_resources: { listeners: [listener('v', context, { chain })], clusters: [staticCluster('backend', [1])] },
  }));
  return spawnSync(SLUICE, ['--mode', 'validate', '-c', config], { encoding: 'utf8' });
}
const at = 'static_resources.listeners[0].filter_chains[0].transport_socket.typed_config';

test('config errors name the field: h2 in ALPN, a key that does not match, two RSA certificates, unknown names', () => {
  const cases = [
    [{ common_tls_context: { tls_certificates: certificates('server-ec'), alpn_protocols: ['h2', 'http/1.1'] } },
      `${at}.common_tls_context.alpn_protocols[0]: 'h2' is not supported by sluice`],
    [{ common_tls_context: { tls_certificates: [{ certificate_chain: { filename: file('server-ec.crt') },
      private_key: { filename: file('client-good.key') } }] } },
    `${at}.common_tls_context.tls_certificates[0]: the private key does not match the certificate`],
    [{ common_tls_context: { tls_certificates: certificates('server-rsa', 'server-rsa') } },
      `${at}.common_tls_context.tls_certificates[1]: at most one RSA certificate`],
    [{ common_tls_context: { tls_certificates: certificates('server-ec'), tls_params: { cipher_suites: ['NOPE-CIPHER'] } } },
      `${at}.common_tls_context.tls_params.cipher_suites: unknown cipher suite 'NOPE-CIPHER'`],
    [{ common_tls_context: { tls_certificates: certificates('server-ec'), tls_params: { ecdh_curves: ['P-999'] } } },
      `${at}.common_tls_context.tls_params.ecdh_curves: unknown curve`],
    [{ common_tls_context: { tls_certificates: [{ certificate_chain: { filename: file('missing.crt') },
      private_key: { filename: file('server-ec.key') } }] } },
    `${at}.common_tls_context.tls_certificates[0].certificate_chain.filename: cannot read`],
    [{ common_tls_context: {} }, `${at}.common_tls_context.tls_certificates: a TLS server needs a certificate`],
    [{ require_client_certificate: true, common_tls_context: { tls_certificates: certificates('server-ec') } },
      `${at}.require_client_certificate: needs common_tls_context.validation_context.trusted_ca`],
    [{ common_tls_context: { tls_certificates: certificates('server-ec'),
      tls_params: { tls_minimum_protocol_version: 'TLSv1_3', tls_maximum_protocol_version: 'TLSv1_2' } } },
    `${at}.common_tls_context.tls_params: the minimum protocol version is above the maximum`],
    // Not implemented yet: refused by name, never ignored.
    [{ session_timeout: '300s', common_tls_context: { tls_certificates: certificates('server-ec') } },
      `${at}.session_timeout: is not supported by sluice`],
    [{ common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'x' }] } },
      `${at}.common_tls_context.tls_certificate_sds_secret_configs: is not supported by sluice`],
    [{ common_tls_context: { tls_certificates: certificates('server-ec'),
      validation_context: { trusted_ca: { filename: file('ca.crt') }, verify_certificate_hash: ['00'] } } },
    `${at}.common_tls_context.validation_context.verify_certificate_hash: is not supported by sluice`],
  ];
  for (const [context, expected] of cases) {
    const run = validate(context);
    assert.notEqual(run.status, 0, `accepted: ${JSON.stringify(context)}`);
    assert.ok((run.stdout + run.stderr).includes(expected), `expected '${expected}' in:\n${run.stdout}${run.stderr}`);
    assert.ok(!(run.stdout + run.stderr).includes('PRIVATE KEY'), 'a key was printed');
  }
  const ok = validate({ common_tls_context: { tls_certificates: certificates('server-rsa', 'server-ec') } },
    { transport_socket_connect_timeout: '1s' });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
});

test('a direct_response body and an access-log format read from a file (DataSource filename)', async () => {
  writeFileSync(file('body.txt'), 'body from a file\n');
  writeFileSync(file('format.txt'), 'from-file %REQ(:PATH)%\n');
  const l = httpListener({
    name: 'files',
    routeConfig: routes([{ match: { prefix: '/' }, direct_response: { status: 200, body: { filename: file('body.txt') } } }]),
    hcm: {
      access_log: [{
        name: 'envoy.access_loggers.file',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
          path: file('files.log'),
          log_format: { text_format_source: { filename: file('format.txt') } },
        },
      }],
    },
  });
  const s = await startSluice({ static_resources: { listeners: [l] } });
  started.push(s);
  const res = await new Promise((resolve) => execFile('curl', ['-sS', `http://127.0.0.1:${s.port()}/f`],
    { encoding: 'utf8' }, (error, stdout) => resolve({ error, stdout })));
  assert.ifError(res.error);
  assert.equal(res.stdout, 'body from a file\n');
  await until(() => logLines('files').length === 1, 'the access-log line');
  assert.equal(logLines('files')[0], 'from-file /f');
});
