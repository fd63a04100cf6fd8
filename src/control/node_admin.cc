#include "control/node_admin.h"

#include <variant>

#include <asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include "admin/admin_json.h"
#include "control/http_client.h"
#include "control/options.h"
#include "log/logger.h"

namespace sluice::control {

using nlohmann::json;

namespace {

constexpr std::string_view kRoot = "/v1/nodes/";
constexpr std::string_view kAdmin = "/admin/";

admin::AdminResponse jsonError(int status, std::string message, const std::string& address = "") {
  json body{{"error", std::move(message)}};
  if (!address.empty()) body["admin_address"] = address;
  return {status, "application/json", admin::dumpJson(body)};
}

// One admin path a proxy may be asked for: its method, the target sent to
// the proxy (query parameters are rebuilt here, never copied), its type.
struct Forward {
  std::string method;
  std::string target;
  std::string content_type;
};

// The request's operation as a Forward, or the refusal.
std::variant<Forward, admin::AdminResponse> forwardFor(std::string_view op, const admin::AdminRequest& request) {
  const bool json_format = request.param("format") == "json";
  if (op == "config_dump" || op == "stats" || op == "clusters") {
    if (request.method != "GET") return jsonError(405, "/admin/" + std::string(op) + " is read with GET");
    if (op == "config_dump") return Forward{"GET", "/config_dump", "application/json"};
    return Forward{"GET", "/" + std::string(op) + (json_format ? "?format=json" : ""),
                   json_format ? "application/json" : "text/plain; charset=UTF-8"};
  }
  if (op == "logging") {
    if (request.method == "GET") return Forward{"GET", "/logging", "text/plain; charset=UTF-8"};
    if (request.method != "POST") return jsonError(405, "/admin/logging: GET lists the levels, POST ?level= sets them");
    const std::string level = request.param("level");
    if (!log::parseLevel(level, true)) {
      return jsonError(
          400, "/admin/logging: level '" + level + "' is not one of trace, debug, info, warning, error, critical, off");
    }
    return Forward{"POST", "/logging?level=" + level, "text/plain; charset=UTF-8"};
  }
  return jsonError(404, "/admin/" + std::string(op) +
                            ": only config_dump, stats, clusters (GET) and logging (GET, POST ?level=) are proxied");
}

// The admin address node `id` advertises, or the refusal.
std::variant<network::Tcp::endpoint, admin::AdminResponse> adminEndpointOf(const ControlPlane& cp,
                                                                           const std::string& id) {
  const XdsSession* session = nullptr;
  for (const auto& [stream, s] : cp.sessions()) {
    if (s->hasNode() && s->node().id() == id) session = s.get();
  }
  if (session == nullptr) return jsonError(404, "node '" + id + "' is not connected");
  const auto& fields = session->node().metadata().fields();
  const auto it = fields.find(std::string(kAdminAddressKey));
  if (it == fields.end() || !it->second.has_string_value()) {
    return jsonError(
        409, "node '" + id + "' advertises no admin address (node.metadata \"" + std::string(kAdminAddressKey) + "\")");
  }
  const std::string& address = it->second.string_value();
  std::string host;
  uint16_t port = 0;
  std::error_code ec;
  const auto ip = splitHostPort(address, host, port) ? asio::ip::make_address(host, ec) : asio::ip::address();
  if (port == 0 || ec || host.empty()) {
    return jsonError(409, "node '" + id + "' advertises admin address '" + address + "': expected IP:PORT", address);
  }
  if (ip.is_unspecified()) {
    return jsonError(409,
                     "node '" + id + "' advertises the wildcard admin address '" + address + "': set node.metadata \"" +
                         std::string(kAdminAddressKey) + "\" to an address this host reaches",
                     address);
  }
  return network::Tcp::endpoint(ip, port);
}

asio::awaitable<admin::AdminResponse> proxy(const ControlPlane& cp, NodeAdminCounters& counters,
                                            std::chrono::milliseconds timeout, const admin::AdminRequest& request) {
  // /v1/nodes/{id}/admin/{op}: the id is percent-encoded, so its '/' are %2F.
  const std::string_view rest = std::string_view(request.path).substr(kRoot.size());
  const size_t at = rest.rfind(kAdmin);
  const std::string id = admin::percentDecode(rest.substr(0, at));
  const std::string_view op = rest.substr(at + kAdmin.size());
  auto forward = forwardFor(op, request);
  if (auto* refusal = std::get_if<admin::AdminResponse>(&forward)) {
    ++counters.refused;
    co_return *refusal;
  }
  auto endpoint = adminEndpointOf(cp, id);
  if (auto* refusal = std::get_if<admin::AdminResponse>(&endpoint)) {
    ++counters.refused;
    co_return *refusal;
  }
  const auto& f = std::get<Forward>(forward);
  const auto& where = std::get<network::Tcp::endpoint>(endpoint);
  const std::string address = where.address().to_string() + ":" + std::to_string(where.port());
  HttpCall call;
  call.endpoint = where;
  call.method = f.method;
  call.target = f.target;
  call.timeout = timeout;
  call.max_body = kNodeAdminMaxBody;
  const HttpReply reply = co_await httpCall(std::move(call));
  if (!reply.error.empty()) {
    const bool timed_out = reply.error.ends_with("timed out");
    ++(timed_out ? counters.timed_out : counters.failed);
    SLUICE_LOG(admin, warn, "node '{}' admin {} {}: {}", id, f.method, f.target, reply.error);
    co_return jsonError(timed_out ? 504 : 502, "node '" + id + "' admin " + f.target + ": " + reply.error, address);
  }
  ++counters.forwarded;
  if (f.method == "POST") SLUICE_LOG(admin, info, "node '{}' admin POST {}: {}", id, f.target, reply.status);
  co_return admin::AdminResponse{reply.status, reply.status == 200 ? f.content_type : "text/plain; charset=UTF-8",
                                 reply.body};
}

}  // namespace

bool isNodeAdminPath(std::string_view path) {
  if (!path.starts_with(kRoot)) return false;
  const size_t at = path.rfind(kAdmin);
  return at != std::string_view::npos && at > kRoot.size();
}

void addNodeAdminProxy(admin::AdminServer& server, const ControlPlane& cp, NodeAdminCounters& counters,
                       std::chrono::milliseconds timeout) {
  server.addAsync(
      std::string(kRoot),
      "a connected proxy's admin, at the address it advertises (/v1/nodes/{id}/admin/{config_dump|stats|clusters}, "
      "POST /v1/nodes/{id}/admin/logging?level=)",
      [&cp, &counters, timeout](const admin::AdminRequest& request) { return proxy(cp, counters, timeout, request); },
      isNodeAdminPath);
}

}  // namespace sluice::control
