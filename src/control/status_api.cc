#include "control/status_api.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "admin/admin_json.h"
#include "config/any_util.h"
#include "control/node_admin.h"
#include "control/time_text.h"
#include "control/translator.h"

namespace sluice::control {

namespace {

using nlohmann::json;

admin::AdminResponse jsonResponse(const json& body, int status = 200) {
  return {status, "application/json", admin::dumpJson(body)};
}

json nodeJson(uint64_t stream, const XdsSession& session, const DriftDetector* drift) {
  const auto& node = session.node();
  json out{{"id", node.id()},
           {"cluster", node.cluster()},
           {"zone", node.locality().zone()},
           {"user_agent_name", node.user_agent_name()},
           {"kind", nodeKindName(nodeKindOf(node))},
           {"stream", stream},
           {"protocol", session.isDelta() ? "delta" : "sotw"},
           {"connected_since", timeText(session.connectedSince())}};
  // The admin address the node advertises (sluice sets it), for /v1/nodes/{id}/admin/.
  const auto& fields = node.metadata().fields();
  if (const auto it = fields.find(std::string(kAdminAddressKey)); it != fields.end() && it->second.has_string_value()) {
    out["admin_address"] = it->second.string_value();
  }
  json types = json::object();
  for (const XdsType type : kPushOrder) {
    const auto s = session.status(type);
    json t{{"state", syncStateName(s.state)},
           {"sent_version", s.sent_version},
           {"acked_version", s.acked_version},
           {"current_version", s.current_version}};
    if (!s.nack_error.empty()) {
      t["error"] = s.nack_error;
      t["nacked_version"] = s.nacked_version;
    }
    if (s.subscribed) t["names"] = s.wildcard ? json::array({"*"}) : json(s.names);
    types[std::string(typeShortName(type))] = std::move(t);
  }
  out["types"] = std::move(types);
  if (drift != nullptr) out["drift"] = drift->json(stream);
  return out;
}

json snapshotJson(const Snapshot& snapshot) {
  json out = json::object();
  for (const XdsType type : kPushOrder) {
    std::vector<std::shared_ptr<const Resource>> all;
    json resources = json::array();
    for (const auto& [name, resource] : snapshot.of(type)) {
      all.push_back(resource);
      std::string text;
      std::string error;
      auto message = config::unpackAny(resource->any, &error);
      if (message) {
        google::protobuf::util::JsonPrintOptions options;
        options.preserve_proto_field_names = true;
        (void)google::protobuf::util::MessageToJsonString(*message, &text, options);
      }
      resources.push_back({{"name", name},
                           {"version", resource->version},
                           {"resource", text.empty() ? json(nullptr) : json::parse(text, nullptr, false)}});
    }
    out[std::string(typeShortName(type))] = {{"version", versionOf(all)}, {"resources", std::move(resources)}};
  }
  out["skipped"] = snapshot.skipped;
  return out;
}

// The sessions of node `id` (a node may hold more than one stream).
std::vector<std::pair<uint64_t, const XdsSession*>> sessionsOf(const ControlPlane& cp, const std::string& id) {
  std::vector<std::pair<uint64_t, const XdsSession*>> out;
  for (const auto& [stream, session] : cp.sessions()) {
    if (session->hasNode() && session->node().id() == id) out.emplace_back(stream, session.get());
  }
  return out;
}

json storeJson(const SourceStatus& s) {
  return {{"state", s.state},
          {"member", s.member},
          {"revision", s.revision},
          {"last_error", s.last_error},
          {"last_error_at", timeText(s.last_error_at)},
          {"errors", s.errors},
          {"reconnects", s.reconnects},
          {"full_reads", s.full_reads},
          {"compactions", s.compactions},
          {"watch_events", s.watch_events},
          {"member_timeouts", s.member_timeouts}};
}

bool takesTraffic(const Instance& instance) {
  return instance.health == Health::Healthy || instance.health == Health::Degraded;
}

// Per zone: the registry's weight, its instances (those that take traffic:
// healthy or degraded), and the load LRS reports into it.
json zonesJson(const ControlPlane& cp, const LoadReports* loads, const DrainController* drains) {
  const Registry& registry = *cp.registry();
  json zones = json::array();
  for (const auto& zone : registry.zones) {
    uint64_t instances = 0;
    uint64_t healthy = 0;
    for (const auto& service : registry.services) {
      for (const auto& instance : service.instances) {
        if (instance.zone != zone) continue;
        ++instances;
        healthy += takesTraffic(instance) ? 1 : 0;
      }
    }
    json load = json::array();
    if (loads != nullptr) {
      for (const auto& [node, clusters] : loads->loads()) {
        for (const auto& [cluster, localities] : clusters) {
          const auto it = localities.find(zone);
          if (it == localities.end()) continue;
          const LocalityLoad& l = it->second;
          load.push_back({{"node", node},
                          {"cluster", cluster},
                          {"upstream_rq_total", l.issued},
                          {"upstream_rq_success", l.successful},
                          {"upstream_rq_error", l.errors},
                          {"upstream_rq_active", l.in_progress},
                          {"interval_seconds", l.interval_seconds},
                          {"rps", l.rps()},
                          {"reported_at", timeText(l.reported_at)}});
        }
      }
    }
    json z{{"zone", zone},
           {"weight", registry.zoneWeight(zone)},
           {"instances", instances},
           {"healthy_instances", healthy},
           {"reported_rps", loads != nullptr ? loads->zoneRps(zone) : 0.0},
           {"load", std::move(load)}};
    if (drains != nullptr) z.update(zoneDrainJson(*drains, zone, cp.storeRegistry()->zoneWeight(zone)));
    zones.push_back(std::move(z));
  }
  json out{{"zones", std::move(zones)}};
  if (drains != nullptr) {
    const GuardOptions& g = drains->options();
    out["guard"] = {{"max_load_factor", g.max_load_factor},
                    {"max_error_rate", g.max_error_rate},
                    {"min_requests", g.min_requests},
                    {"rollback_steps", g.rollback_steps}};
    out["drain_store"] = {{"store", drains->store().describe()}, {"last_error", drains->lastStoreError()}};
  }
  if (loads != nullptr) {
    out["load_reporting_interval_ms"] = loads->interval().count();
    out["lrs_streams"] = loads->openStreams();
  }
  return out;
}

std::string metrics(const ControlPlane& cp, const RegistrySource* source, const LoadReports* loads,
                    const DrainController* drains, const DriftDetector* drift, const WatchChecker* watch_check,
                    const NodeAdminCounters* node_admin) {
  const auto& c = cp.counters();
  const auto& r = cp.registryStatus();
  size_t connected = 0;
  size_t connected_delta = 0;
  size_t synced = 0;
  for (const auto& [stream, session] : cp.sessions()) {
    if (!session->hasNode()) continue;
    ++connected;
    connected_delta += session->isDelta() ? 1 : 0;
    bool all = true;
    for (const XdsType type : kPushOrder) {
      const auto s = session->status(type);
      if (s.subscribed && s.state != SyncState::Synced) all = false;
    }
    synced += all ? 1 : 0;
  }
  std::string out;
  const auto counter = [&out](std::string_view name, std::string_view help, uint64_t value) {
    out += fmt::format("# HELP sluice_control_{0} {1}\n# TYPE sluice_control_{0} counter\nsluice_control_{0} {2}\n",
                       name, help, value);
  };
  const auto gauge = [&out](std::string_view name, std::string_view help, uint64_t value) {
    out += fmt::format("# HELP sluice_control_{0} {1}\n# TYPE sluice_control_{0} gauge\nsluice_control_{0} {2}\n", name,
                       help, value);
  };
  if (loads != nullptr) {
    const auto& l = loads->counters();
    gauge("lrs_streams", "LRS streams open", loads->openStreams());
    counter("lrs_streams_total", "LRS streams opened", l.streams);
    counter("lrs_reports_total", "LRS requests that carried load", l.reports);
    counter("lrs_localities_dropped_total", "reported localities beyond a node's limit (10,000), not kept",
            l.localities_dropped);
    counter("lrs_reports_without_node_total", "LRS streams whose first request had no node.id", l.reports_without_node);
  }
  const json zones = zonesJson(cp, loads, drains);
  const auto perZone = [&out, &zones](std::string_view name, std::string_view help, const char* key) {
    out += fmt::format("# HELP sluice_control_{0} {1}\n# TYPE sluice_control_{0} gauge\n", name, help);
    for (const auto& z : zones["zones"]) {
      out += fmt::format("sluice_control_{}{{zone=\"{}\"}} {}\n", name, z["zone"].get<std::string>(), z[key].dump());
    }
  };
  perZone("zone_weight", "the zone's weight served (its drain's, else the registry's)", "weight");
  if (drains != nullptr) {
    perZone("zone_drain_target", "the zone's drain target (the registry weight when not draining)", "target");
    out +=
        "# HELP sluice_control_zone_draining 1 while the zone's drain steps (paused: 2)\n"
        "# TYPE sluice_control_zone_draining gauge\n";
    for (const auto& z : zones["zones"]) {
      const std::string state = z["state"].get<std::string>();
      out += fmt::format("sluice_control_zone_draining{{zone=\"{}\"}} {}\n", z["zone"].get<std::string>(),
                         state == "draining" ? 1
                         : state == "paused" ? 2
                                             : 0);
    }
    const DrainCounters& d = drains->counters();
    counter("drains_started_total", "drains and undrains started (resumes included)", d.started);
    counter("drain_steps_total", "zone weight changes made by drain steps", d.steps);
    counter("drains_completed_total", "drains that reached their target", d.completed);
    counter("drains_aborted_total", "drains stopped by an operator", d.aborted);
    counter("drain_guard_refusals_total", "drains the guard's capacity check refused", d.guard_refusals);
    counter("drain_guard_forced_total", "drains started with force over the guard's refusal", d.guard_forced);
    counter("drain_guard_pauses_total", "drains the guard paused on the remaining zones' error rate", d.guard_pauses);
    counter("drain_guard_rollbacks_total", "drain steps undone by the guard's pauses", d.guard_rollbacks);
    counter("drain_store_errors_total", "drain state writes that failed (the change was not made)", d.store_errors);
  }
  perZone("zone_instances", "instances in the zone", "instances");
  perZone("zone_healthy_instances", "instances in the zone that take traffic (healthy or degraded)",
          "healthy_instances");
  perZone("zone_reported_rps", "requests per second into the zone, as LRS last reported", "reported_rps");
  counter("xds_pushes_total", "xDS responses sent", c.pushes);
  counter("xds_acks_total", "responses ACKed", c.acks);
  counter("xds_nacks_total", "responses NACKed", c.nacks);
  counter("xds_nack_parked_total", "pushes held back because they were the NACKed content", c.nack_parked);
  counter("xds_stale_nonces_total", "requests with a stale nonce (names kept, not an ACK or NACK)", c.stale_nonces);
  counter("xds_unknown_types_total", "requests for a type this server does not serve", c.unknown_types);
  counter("xds_resources_sent_total", "resources in the responses sent (delta: only the changed ones)",
          c.resources_sent);
  counter("xds_removals_sent_total", "delta: names sent in removed_resources", c.removals_sent);
  counter("registry_updates_accepted_total", "registry versions accepted (the first read included)", r.accepted);
  counter("registry_updates_rejected_total", "registry updates rejected (the previous one kept)", r.rejected);
  if (node_admin != nullptr) {
    counter("node_admin_forwarded_total", "/v1/nodes/{id}/admin/ calls answered by the proxy's admin",
            node_admin->forwarded);
    counter("node_admin_refused_total",
            "/v1/nodes/{id}/admin/ calls refused here (path, method, level, node or its advertised address)",
            node_admin->refused);
    counter("node_admin_failures_total", "/v1/nodes/{id}/admin/ calls that failed to connect or read (502)",
            node_admin->failed);
    counter("node_admin_timeouts_total", "/v1/nodes/{id}/admin/ calls past the timeout (504)", node_admin->timed_out);
  }
  gauge("connected_proxies", "ADS streams that named their node", connected);
  gauge("connected_delta_proxies", "delta ADS streams that named their node", connected_delta);
  gauge("synced_proxies", "connected nodes SYNCED on every type they subscribed to", synced);
  gauge("snapshots", "distinct translated snapshots held", cp.cachedSnapshots());
  if (source != nullptr) {
    const SourceStatus s = source->status();
    gauge("registry_store_up", "1 while the registry store is followed (watching), 0 while it is not reached",
          s.state == "watching" ? 1 : 0);
    gauge("registry_store_revision", "the store revision the registry served is at", static_cast<uint64_t>(s.revision));
    counter("registry_store_errors_total", "registry store failures (connect, read, lost watch)", s.errors);
    counter("registry_store_reconnects_total", "store watches opened again after a loss", s.reconnects);
    counter("registry_store_full_reads_total", "reads of every registry key (the first, and after compaction)",
            s.full_reads);
    counter("registry_store_compactions_total", "watches canceled because their revision was compacted", s.compactions);
    counter("registry_store_member_timeouts_total",
            "probes of the watched etcd member that failed (hung or partitioned): the watch moved on",
            s.member_timeouts);
  }
  if (drift != nullptr) {
    gauge("drifted_proxies", "connected proxies serving other endpoints than their snapshot's past the drift threshold",
          drift->drifted());
    counter("drift_events_total", "proxies that went past the drift threshold behind their snapshot", drift->events());
  }
  if (watch_check != nullptr) {
    const auto& w = watch_check->status();
    counter("registry_watch_checks_total", "full reads of the store compared with the watched state", w.checks);
    counter("registry_watch_mismatches_total", "watch checks that found the store differing from the watched state",
            w.mismatches);
    counter("registry_watch_check_errors_total", "watch checks that could not read the store", w.errors);
  }
  return out;
}

}  // namespace

void addStatusHandlers(admin::AdminServer& server, ControlPlane& cp, const RegistrySource* source,
                       const LoadReports* loads, const DrainController* drains, const DriftDetector* drift,
                       const WatchChecker* watch_check, const NodeAdminCounters* node_admin) {
  server.add("/v1/registry", "the registry served, its version and the last rejected update", false,
             [&cp, source, watch_check](const admin::AdminRequest&) {
               const auto& r = cp.registryStatus();
               json out{{"source", r.source},
                        {"version", r.version},
                        {"accepted_at", timeText(r.accepted_at)},
                        {"accepted", r.accepted},
                        {"rejected", r.rejected},
                        {"last_error", r.last_error},
                        {"rejected_at", timeText(r.rejected_at)},
                        {"registry", json::parse(registryJson(*cp.registry()))}};
               if (source != nullptr) out["store"] = storeJson(source->status());
               if (watch_check != nullptr) out["watch_check"] = watch_check->json();
               return jsonResponse(out);
             });
  server.add("/v1/nodes", "every connected node's sync state per type", false,
             [&cp, drift](const admin::AdminRequest&) {
               json nodes = json::array();
               for (const auto& [stream, session] : cp.sessions()) {
                 if (session->hasNode()) nodes.push_back(nodeJson(stream, *session, drift));
               }
               return jsonResponse({{"nodes", std::move(nodes)}});
             });
  server.addPrefix("/v1/nodes/", "one node's sync state per type (/v1/nodes/{id})",
                   [&cp, drift](const admin::AdminRequest& request) {
                     const std::string id = admin::percentDecode(request.path.substr(std::strlen("/v1/nodes/")));
                     json streams = json::array();
                     for (const auto& [stream, session] : sessionsOf(cp, id)) {
                       streams.push_back(nodeJson(stream, *session, drift));
                     }
                     if (streams.empty()) return jsonResponse({{"error", "node '" + id + "' is not connected"}}, 404);
                     return jsonResponse({{"id", id}, {"streams", std::move(streams)}});
                   });
  server.addPrefix(
      "/v1/snapshot/", "what node {node_id} gets now (/v1/snapshot/{node_id})",
      [&cp](const admin::AdminRequest& request) {
        const std::string id = admin::percentDecode(request.path.substr(std::strlen("/v1/snapshot/")));
        const auto sessions = sessionsOf(cp, id);
        // A node connected to another replica: ?cluster= names its node.cluster
        // and ?kind=grpc_client says it is a gRPC client (/v1/diff).
        std::string cluster = admin::percentDecode(request.param("cluster"));
        NodeKind kind = request.param("kind") == "grpc_client" ? NodeKind::GrpcClient : NodeKind::Edge;
        if (!sessions.empty()) {
          cluster = sessions.front().second->node().cluster();
          kind = nodeKindOf(sessions.front().second->node());
        } else if (!request.hasParam("cluster") && !request.hasParam("kind")) {
          return jsonResponse({{"error", "node '" + id + "' is not connected"}}, 404);
        }
        json out = snapshotJson(*(kind == NodeKind::GrpcClient ? cp.grpcClientSnapshot() : cp.snapshotFor(cluster)));
        out["node"] = id;
        out["node_kind"] = nodeKindName(kind);
        // Not "cluster": that key holds the CDS resources.
        out["node_cluster"] = cluster;
        return jsonResponse(out);
      });
  server.add(
      "/v1/zones", "per zone: weight served, registry weight, drain and guard state, instances, load reported over LRS",
      false, [&cp, loads, drains](const admin::AdminRequest&) { return jsonResponse(zonesJson(cp, loads, drains)); });
  server.add("/metrics", "the control plane's metrics (Prometheus text)", false,
             [&cp, source, loads, drains, drift, watch_check, node_admin](const admin::AdminRequest&) {
               return admin::AdminResponse{200, "text/plain; version=0.0.4; charset=UTF-8",
                                           metrics(cp, source, loads, drains, drift, watch_check, node_admin)};
             });
}

}  // namespace sluice::control
