// The admin of a connected proxy, reached THROUGH sluice-control (the UI's
// proxy page): GET /v1/nodes/{id}/admin/{config_dump|stats|clusters|logging}
// and POST /v1/nodes/{id}/admin/logging?level=LEVEL, nothing else. The
// address is the node's own, from its node.metadata "sluice.admin_address"
// (sluice sets it from its bound admin address), never from the request.
// Handlers run on the main thread; the call to the proxy is a coroutine there.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "admin/admin_server.h"
#include "control/control_plane.h"

namespace sluice::control {

inline constexpr std::string_view kAdminAddressKey = "sluice.admin_address";
// A proxy's admin that has not answered (connect and whole body) in this long: 504.
inline constexpr std::chrono::milliseconds kNodeAdminTimeout{3000};
// A proxy's answer past this size: 502 (a config dump of thousands of clusters fits).
inline constexpr size_t kNodeAdminMaxBody = 32 * 1024 * 1024;

// Counted per request (main thread), shown in /metrics.
struct NodeAdminCounters {
  uint64_t forwarded = 0;  // calls that reached the proxy's admin and came back
  uint64_t refused = 0;    // answered here: a path or method not proxied, a bad level, no such node or address
  uint64_t failed = 0;     // connect, read or size failures (502)
  uint64_t timed_out = 0;  // no whole answer within the timeout (504)
};

// True for /v1/nodes/{id}/admin/{anything}: the paths the proxy handler takes
// (the rest of /v1/nodes/ stays with the status API).
bool isNodeAdminPath(std::string_view path);

// `counters` outlives the server.
void addNodeAdminProxy(admin::AdminServer& server, const ControlPlane& control_plane, NodeAdminCounters& counters,
                       std::chrono::milliseconds timeout = kNodeAdminTimeout);

}  // namespace sluice::control
