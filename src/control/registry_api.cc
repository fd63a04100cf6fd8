#include "control/registry_api.h"

#include <charconv>
#include <set>

#include <nlohmann/json.hpp>

#include "admin/admin_json.h"
#include "config/semantic_validator.h"
#include "control/http_client.h"
#include "control/translator.h"

namespace sluice::control {

using nlohmann::json;

namespace {

admin::AdminResponse jsonResponse(const json& body, int status = 200) {
  return {status, "application/json", admin::dumpJson(body)};
}

asio::awaitable<admin::AdminResponse> instanceWrite(RegistrySource& source, const admin::AdminRequest& request) {
  // /v1/services/{svc}/instances/{address}:{port}
  constexpr std::string_view kRoot = "/v1/services/";
  const std::string rest = admin::percentDecode(std::string_view(request.path).substr(kRoot.size()));
  const size_t slash = rest.find('/');
  constexpr std::string_view kInstances = "/instances/";
  std::string address;
  uint32_t port = 0;
  if (slash == std::string::npos || rest.compare(slash, kInstances.size(), kInstances) != 0 ||
      !parseInstanceSegment(std::string_view(rest).substr(slash + kInstances.size()), address, port)) {
    co_return jsonResponse({{"error", "expected /v1/services/{service}/instances/{address}:{port}"}}, 404);
  }
  const std::string service = rest.substr(0, slash);
  std::optional<json> fields;
  if (request.method == "PUT") {
    json body = request.body.empty() ? json::object() : json::parse(request.body, nullptr, false);
    if (body.is_discarded()) co_return jsonResponse({{"errors", json::array({"body: not valid JSON"})}}, 400);
    fields = std::move(body);
  } else if (request.method != "DELETE") {
    co_return jsonResponse({{"error", "method " + request.method + " not allowed: PUT registers, DELETE deregisters"}},
                           405);
  }
  const WriteResult result = co_await source.writeInstance(service, address, port, std::move(fields));
  co_return jsonResponse(result.body, result.status);
}

// name -> version of every resource of `type` in a /v1/snapshot answer.
std::map<std::string, std::string> versionsIn(const json& snapshot, XdsType type) {
  std::map<std::string, std::string> out;
  const auto it = snapshot.find(std::string(typeShortName(type)));
  if (it == snapshot.end() || !it->is_object() || !it->contains("resources")) return out;
  for (const auto& r : (*it)["resources"]) {
    if (r.is_object()) out[r.value("name", std::string())] = r.value("version", std::string());
  }
  return out;
}

asio::awaitable<admin::AdminResponse> diff(ControlPlane& cp, const admin::AdminRequest& request) {
  if (request.method != "GET") co_return jsonResponse({{"error", "GET only"}}, 405);
  const std::string peer = admin::percentDecode(request.param("peer"));
  network::Tcp::endpoint endpoint;
  std::string base;
  if (!parseHttpUrl(peer, endpoint, base)) {
    co_return jsonResponse({{"error", "peer '" + peer + "': expected http://IP:PORT (the peer's --http-listen)"}}, 400);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  // The nodes known here: each connected node id once, with its cluster.
  std::map<std::string, std::pair<std::string, NodeKind>> nodes;
  for (const auto& [stream, session] : cp.sessions()) {
    if (session->hasNode()) {
      nodes.emplace(session->node().id(), std::pair(session->node().cluster(), nodeKindOf(session->node())));
    }
  }
  json out{{"peer", peer}, {"equal", true}, {"nodes", json::array()}};
  for (const auto& [id, target] : nodes) {
    const auto& [cluster, kind] = target;
    HttpCall call;
    call.endpoint = endpoint;
    call.target = base + "/v1/snapshot/" + percentEncode(id) + "?cluster=" + percentEncode(cluster) +
                  (kind == NodeKind::GrpcClient ? "&kind=grpc_client" : "");
    const HttpReply reply = co_await httpCall(std::move(call));
    json node{{"node", id}, {"cluster", cluster}};
    const json theirs = reply.error.empty() ? json::parse(reply.body, nullptr, false) : json();
    if (!reply.error.empty() || reply.status != 200 || !theirs.is_object()) {
      node["error"] = !reply.error.empty() ? reply.error : "HTTP " + std::to_string(reply.status) + ": " + reply.body;
      out["equal"] = false;
      out["nodes"].push_back(std::move(node));
      continue;
    }
    const auto snapshot = kind == NodeKind::GrpcClient ? cp.grpcClientSnapshot() : cp.snapshotFor(cluster);
    json types = json::object();
    bool node_equal = true;
    for (const XdsType type : kPushOrder) {
      std::map<std::string, std::string> mine;
      for (const auto& [name, resource] : snapshot->of(type)) mine[name] = resource->version;
      const auto peers = versionsIn(theirs, type);
      json differ = json::array();
      std::set<std::string> names;
      for (const auto& [name, v] : mine) names.insert(name);
      for (const auto& [name, v] : peers) names.insert(name);
      for (const auto& name : names) {
        const auto m = mine.find(name);
        const auto p = peers.find(name);
        const std::string mv = m == mine.end() ? "" : m->second;
        const std::string pv = p == peers.end() ? "" : p->second;
        if (mv != pv) differ.push_back({{"name", name}, {"version", mv}, {"peer_version", pv}});
      }
      json t{{"equal", differ.empty()}};
      if (!differ.empty()) t["differ"] = std::move(differ);
      node_equal = node_equal && t["equal"].get<bool>();
      types[std::string(typeShortName(type))] = std::move(t);
    }
    node["equal"] = node_equal;
    node["types"] = std::move(types);
    if (!node_equal) out["equal"] = false;
    out["nodes"].push_back(std::move(node));
  }
  co_return jsonResponse(out);
}

}  // namespace

bool parseInstanceSegment(std::string_view segment, std::string& address, uint32_t& port) {
  const size_t colon = segment.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string host(segment.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view digits = segment.substr(colon + 1);
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || digits.empty() || end != digits.data() + digits.size() || value == 0 || value > 65535)
    return false;
  if (!config::isIpLiteral(host)) return false;
  address = std::move(host);
  port = value;
  return true;
}

void addRegistryApi(admin::AdminServer& server, ControlPlane& cp, RegistrySource& source) {
  server.addAsync("/v1/services/",
                  "PUT registers, DELETE deregisters an instance (/v1/services/{svc}/instances/{address}:{port})",
                  [&source](const admin::AdminRequest& request) { return instanceWrite(source, request); });
  server.addAsync("/v1/diff", "this replica's snapshots against a peer's, per node and type (?peer=http://IP:PORT)",
                  [&cp](const admin::AdminRequest& request) { return diff(cp, request); });
}

}  // namespace sluice::control
