// A scripted ADS server (state of the world) for the integration tests:
// @grpc/grpc-js with Envoy's protos from @grpc/grpc-js-xds (pinned), the same
// files the C++ build compiles. The test sets the resources per type URL;
// the server answers a stream's first request of a type with them, pushes
// changes to every open stream, and records every request it receives so a
// test can await one (ACKs, NACKs, re-requests) instead of sleeping.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
const files = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/service/runtime/v3/rtds.proto',
  'envoy/service/cluster/v3/cds.proto',
  'envoy/service/endpoint/v3/eds.proto',
  'envoy/service/listener/v3/lds.proto',
  'envoy/service/route/v3/rds.proto',
];

const definition = protoLoader.loadSync(files, { includeDirs, keepCase: true, longs: String, enums: String, defaults: false, oneofs: true });
const pkg = grpc.loadPackageDefinition(definition).envoy.service;
export const service = pkg.discovery.v3.AggregatedDiscoveryService.service;
// The per-type services (api_config_source): [service, state-of-the-world method, delta method].
export const TYPE_SERVICES = [
  [pkg.cluster.v3.ClusterDiscoveryService.service, 'StreamClusters', 'DeltaClusters'],
  [pkg.endpoint.v3.EndpointDiscoveryService.service, 'StreamEndpoints', 'DeltaEndpoints'],
  [pkg.listener.v3.ListenerDiscoveryService.service, 'StreamListeners', 'DeltaListeners'],
  [pkg.route.v3.RouteDiscoveryService.service, 'StreamRoutes', 'DeltaRoutes'],
  [pkg.runtime.v3.RuntimeDiscoveryService.service, 'StreamRuntime', 'DeltaRuntime'],
];

// protobufjs encodes the resources (Any payloads), in Envoy's field names.
const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const d of includeDirs) {
    const p = join(d, target);
    try { require('node:fs').accessSync(p); return p; } catch { /* next */ }
  }
  return target;
};
root.loadSync(files, { keepCase: true });

export const TYPE = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  runtime: 'type.googleapis.com/envoy.service.runtime.v3.Runtime',
};

// A resource as an Any: `type_url` and the encoded `object` (nested typed
// configs as {'@type': ..., ...}; durations as {seconds, nanos}).
export function any(typeUrl, object) {
  const type = root.lookupType(typeUrl.split('/').pop());
  const message = type.fromObject(object);
  const problem = type.verify(message);
  if (problem) throw new Error(`${typeUrl}: ${problem}`);
  return { type_url: typeUrl, value: Buffer.from(type.encode(message).finish()) };
}

// A plain object as a google.protobuf.Struct for any() (protobufjs has no
// JSON mapping for Struct, and names its fields in camel case whatever
// keepCase says): numbers, strings, booleans and nested objects.
export function struct(object) {
  const value = (v) => {
    if (typeof v === 'number') return { numberValue: v };
    if (typeof v === 'boolean') return { boolValue: v };
    if (typeof v === 'string') return { stringValue: v };
    return { structValue: struct(v) };
  };
  return { fields: Object.fromEntries(Object.entries(object).map(([k, v]) => [k, value(v)])) };
}

export class AdsServer {
  constructor() {
    this.state = new Map();  // type URL -> { version, resources: [{ name, any }] }
    this.requests = [];      // every request received, in order, with .stream
    this.responses = [];     // every response sent: { type_url, version_info, nonce, after: requests received before it }
    this.streams = new Set();
    this.waiters = [];
    this.nonce = 0;
    this.streamCount = 0;
  }

  async start(port = 0) {
    this.server = new grpc.Server();
    // The per-type services share the handler: the messages are the same (api_config_source).
    for (const [typeService, stream, delta] of TYPE_SERVICES) {
      this.server.addService(typeService, {
        [stream]: (call) => this.onStream(call, stream),
        [delta]: (call) => call.destroy(new Error('delta is not scripted')),
      });
    }
    this.server.addService(service, {
      StreamAggregatedResources: (call) => this.onStream(call, 'StreamAggregatedResources'),
      DeltaAggregatedResources: (call) => call.destroy(new Error('delta is not scripted')),
    });
    this.port = await new Promise((resolve, reject) => {
      this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
    });
    return this.port;
  }

  // Kills the server: every stream is cut, as when a control plane dies.
  stop() {
    this.server.forceShutdown();
    this.streams.clear();
  }

  onStream(call, method) {
    // answered: type URL -> names answered; nonces: type URL -> the last nonce sent.
    const stream = { call, id: ++this.streamCount, method, answered: new Map(), nonces: new Map() };
    this.streams.add(stream);
    const gone = () => this.streams.delete(stream);
    call.on('end', () => { gone(); call.end(); });
    call.on('error', gone);
    call.on('cancelled', gone);
    call.on('data', (request) => {
      request.stream = stream.id;
      request.method = stream.method;
      request.received = performance.now();
      this.requests.push(request);
      this.waiters = this.waiters.filter((w) => !w.check());
      const names = (request.resource_names ?? []).join(',');
      // As real servers do: a request with a nonce other than the stream's
      // last for its type is stale and ignored (the client repeats its names
      // in the ACK of the newer response).
      const nonce = request.response_nonce ?? '';
      request.stale = nonce !== '' && nonce !== stream.nonces.get(request.type_url);
      if (request.stale) return;
      // Answer a type's first request on a stream, and new resource names;
      // never an ACK or NACK (nothing to say until the state changes).
      if (this.state.has(request.type_url) &&
          (!stream.answered.has(request.type_url) || stream.answered.get(request.type_url) !== names)) {
        this.send(stream, request.type_url, request.resource_names ?? []);
      }
    });
  }

  send(stream, typeUrl, names) {
    const { version, resources } = this.state.get(typeUrl);
    const wanted = typeUrl === TYPE.endpoint ? resources.filter((r) => names.includes(r.name)) : resources;
    stream.answered.set(typeUrl, names.join(','));
    const nonce = String(++this.nonce);
    stream.nonces.set(typeUrl, nonce);
    this.responses.push({ type_url: typeUrl, version_info: version, nonce, after: this.requests.length });
    stream.call.write({ type_url: typeUrl, version_info: version, nonce, resources: wanted.map((r) => r.any) });
    return nonce;
  }

  // Sets `typeUrl`'s resources ([{name, any}]) at `version` and pushes them
  // to every open stream; returns the nonce of the last response sent.
  push(typeUrl, version, resources) {
    this.state.set(typeUrl, { version, resources });
    let nonce;
    for (const s of this.streams) {
      // A per-type stream (api_config_source) carries its own type only.
      if (s.method !== 'StreamAggregatedResources' && !this.lastRequest(typeUrl, s.id)) continue;
      const byName = typeUrl === TYPE.endpoint || typeUrl === TYPE.route || typeUrl === TYPE.runtime;
      const names = byName ? (this.lastRequest(typeUrl, s.id)?.resource_names ?? []) : [];
      if (!byName || s.answered.has(typeUrl) || names.length) nonce = this.send(s, typeUrl, names);
    }
    return nonce;
  }

  lastRequest(typeUrl, stream) {
    for (let i = this.requests.length - 1; i >= 0; i--) {
      const r = this.requests[i];
      if (r.type_url === typeUrl && (stream === undefined || r.stream === stream)) return r;
    }
    return undefined;
  }

  // Resolves with the first request from index `from` on that satisfies `predicate`.
  waitForRequest(predicate, from = 0) {
    return new Promise((resolve) => {
      const check = () => {
        for (let i = from; i < this.requests.length; i++) {
          if (predicate(this.requests[i])) { resolve(this.requests[i]); return true; }
        }
        return false;
      };
      if (!check()) this.waiters.push({ check });
    });
  }
}
