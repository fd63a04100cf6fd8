#include "control/status_api.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "admin/admin_json.h"
#include "config/any_util.h"

namespace sluice::control {

namespace {

using nlohmann::json;

std::string timeText(std::chrono::system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) return "";
  const auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(t);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", ms);
}

admin::AdminResponse jsonResponse(const json& body, int status = 200) {
  return {status, "application/json", admin::dumpJson(body)};
}

json nodeJson(uint64_t stream, const XdsSession& session) {
  const auto& node = session.node();
  json out{{"id", node.id()},
           {"cluster", node.cluster()},
           {"zone", node.locality().zone()},
           {"user_agent_name", node.user_agent_name()},
           {"stream", stream},
           {"protocol", session.isDelta() ? "delta" : "sotw"},
           {"connected_since", timeText(session.connectedSince())}};
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
          {"watch_events", s.watch_events}};
}

std::string metrics(const ControlPlane& cp, const RegistrySource* source) {
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
  }
  return out;
}

}  // namespace

void addStatusHandlers(admin::AdminServer& server, ControlPlane& cp, const RegistrySource* source) {
  server.add("/v1/registry", "the registry served, its version and the last rejected update", false,
             [&cp, source](const admin::AdminRequest&) {
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
               return jsonResponse(out);
             });
  server.add("/v1/nodes", "every connected node's sync state per type", false, [&cp](const admin::AdminRequest&) {
    json nodes = json::array();
    for (const auto& [stream, session] : cp.sessions()) {
      if (session->hasNode()) nodes.push_back(nodeJson(stream, *session));
    }
    return jsonResponse({{"nodes", std::move(nodes)}});
  });
  server.addPrefix("/v1/nodes/", "one node's sync state per type (/v1/nodes/{id})",
                   [&cp](const admin::AdminRequest& request) {
                     const std::string id = admin::percentDecode(request.path.substr(std::strlen("/v1/nodes/")));
                     json streams = json::array();
                     for (const auto& [stream, session] : sessionsOf(cp, id)) {
                       streams.push_back(nodeJson(stream, *session));
                     }
                     if (streams.empty()) return jsonResponse({{"error", "node '" + id + "' is not connected"}}, 404);
                     return jsonResponse({{"id", id}, {"streams", std::move(streams)}});
                   });
  server.addPrefix("/v1/snapshot/", "what node {node_id} gets now (/v1/snapshot/{node_id})",
                   [&cp](const admin::AdminRequest& request) {
                     const std::string id = admin::percentDecode(request.path.substr(std::strlen("/v1/snapshot/")));
                     const auto sessions = sessionsOf(cp, id);
                     // A node connected to another replica: ?cluster= names its node.cluster (/v1/diff).
                     std::string cluster = admin::percentDecode(request.param("cluster"));
                     if (!sessions.empty()) {
                       cluster = sessions.front().second->node().cluster();
                     } else if (!request.hasParam("cluster")) {
                       return jsonResponse({{"error", "node '" + id + "' is not connected"}}, 404);
                     }
                     json out = snapshotJson(*cp.snapshotFor(cluster));
                     out["node"] = id;
                     // Not "cluster": that key holds the CDS resources.
                     out["node_cluster"] = cluster;
                     return jsonResponse(out);
                   });
  server.add("/metrics", "the control plane's metrics (Prometheus text)", false,
             [&cp, source](const admin::AdminRequest&) {
               return admin::AdminResponse{200, "text/plain; version=0.0.4; charset=UTF-8", metrics(cp, source)};
             });
}

}  // namespace sluice::control
