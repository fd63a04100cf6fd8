// A scripted delta ADS server (DeltaAggregatedResources) for the
// integration tests, on the protos and encoders of ads_server.mjs. The test
// sets resources by name with a version; the server keeps, per stream and
// type, what the client subscribed to (wildcard for an empty first CDS/LDS
// request) and which version of each resource it sent, and sends only what
// changed: on the first request (honouring initial_resource_versions), on a
// subscribe, on push() and remove(). Every request is recorded so a test can
// await one (ACKs, NACKs, subscriptions) instead of sleeping.
import * as grpc from '@grpc/grpc-js';
import { service, TYPE, TYPE_SERVICES } from './ads_server.mjs';

const WILDCARD_TYPES = new Set([TYPE.cluster, TYPE.listener]);

export class DeltaAdsServer {
  constructor() {
    this.state = new Map();  // type URL -> Map(name -> { version, any })
    this.requests = [];      // every request received, in order, with .stream
    this.responses = [];     // every response sent: { type_url, nonce, names, removed, after }
    this.streams = new Set();
    this.waiters = [];
    this.nonce = 0;
    this.streamCount = 0;
  }

  async start(port = 0) {
    this.server = new grpc.Server();
    for (const [typeService, stream, delta] of TYPE_SERVICES) {
      this.server.addService(typeService, {
        [stream]: (call) => call.destroy(new Error('this server speaks delta only')),
        [delta]: (call) => this.onStream(call, delta),
      });
    }
    this.server.addService(service, {
      StreamAggregatedResources: (call) => call.destroy(new Error('this server speaks delta only')),
      DeltaAggregatedResources: (call) => this.onStream(call, 'DeltaAggregatedResources'),
    });
    this.port = await new Promise((resolve, reject) => {
      this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
    });
    return this.port;
  }

  stop() {
    this.server.forceShutdown();
    this.streams.clear();
  }

  onStream(call, method) {
    // Per type URL: { wildcard, names: Set, sent: Map(name -> version) }.
    const stream = { call, id: ++this.streamCount, method, types: new Map() };
    this.streams.add(stream);
    const gone = () => this.streams.delete(stream);
    call.on('end', () => { gone(); call.end(); });
    call.on('error', gone);
    call.on('cancelled', gone);
    call.on('data', (request) => {
      request.stream = stream.id;
      request.method = stream.method;
      this.requests.push(request);
      this.waiters = this.waiters.filter((w) => !w.check());
      const type = request.type_url;
      const subscribe = request.resource_names_subscribe ?? [];
      const unsubscribe = request.resource_names_unsubscribe ?? [];
      let sub = stream.types.get(type);
      if (!sub) {
        sub = { wildcard: subscribe.length === 0 && WILDCARD_TYPES.has(type), names: new Set(), sent: new Map(Object.entries(request.initial_resource_versions ?? {})) };
        stream.types.set(type, sub);
      } else if (!subscribe.length && !unsubscribe.length) {
        return;  // an ACK or a NACK: nothing to send until the state changes
      }
      for (const n of subscribe) sub.names.add(n);
      for (const n of unsubscribe) { sub.names.delete(n); sub.sent.delete(n); }
      this.sendChanges(stream, type);
    });
  }

  wants(sub, name) { return sub.wildcard || sub.names.has(name); }

  // Sends `type`'s resources the stream wants and lacks at their version, and
  // the removal of those it has that are gone; nothing if nothing changed.
  sendChanges(stream, type) {
    const sub = stream.types.get(type);
    if (!sub) return undefined;
    const have = this.state.get(type) ?? new Map();
    const resources = [];
    for (const [name, r] of have) {
      if (this.wants(sub, name) && sub.sent.get(name) !== r.version) resources.push({ name, version: r.version, resource: r.any });
    }
    const removed = [...sub.sent.keys()].filter((n) => !have.has(n) && this.wants(sub, n));
    if (!resources.length && !removed.length) return undefined;
    for (const r of resources) sub.sent.set(r.name, r.version);
    for (const n of removed) sub.sent.delete(n);
    const nonce = String(++this.nonce);
    this.responses.push({ type_url: type, nonce, names: resources.map((r) => r.name), removed, after: this.requests.length });
    stream.call.write({ type_url: type, system_version_info: `sys-${nonce}`, nonce, resources, removed_resources: removed });
    return nonce;
  }

  // Sets resources ([{ name, version, any }]) of `type` and sends them to
  // every stream that wants them; returns the nonce of the last response sent.
  push(type, resources) {
    if (!this.state.has(type)) this.state.set(type, new Map());
    for (const r of resources) this.state.get(type).set(r.name, { version: r.version, any: r.any });
    let nonce;
    for (const s of this.streams) nonce = this.sendChanges(s, type) ?? nonce;
    return nonce;
  }

  // Removes resources of `type` by name; streams that had them are told.
  remove(type, names) {
    for (const n of names) this.state.get(type)?.delete(n);
    let nonce;
    for (const s of this.streams) nonce = this.sendChanges(s, type) ?? nonce;
    return nonce;
  }

  // Resolves with the first request from index `from` on that satisfies
  // `predicate`; rejects after `timeoutMs`.
  waitForRequest(predicate, from = 0, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such delta request within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        for (let i = from; i < this.requests.length; i++) {
          if (predicate(this.requests[i])) { clearTimeout(timer); resolve(this.requests[i]); return true; }
        }
        return false;
      };
      if (!check()) this.waiters.push({ check });
    });
  }
}
