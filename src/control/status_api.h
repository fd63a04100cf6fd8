// The control plane's REST status API (JSON) and /metrics (Prometheus), on
// sluice's admin HTTP server: GET /v1/registry, /v1/nodes, /v1/nodes/{id},
// /v1/snapshot/{node_id}, /v1/zones, /metrics. Handlers read ControlPlane
// and LoadReports on the main thread (the admin server's).
#pragma once

#include "admin/admin_server.h"
#include "control/control_plane.h"
#include "control/drain_controller.h"
#include "control/drift.h"
#include "control/load_reports.h"
#include "control/node_admin.h"
#include "control/registry_source.h"

namespace sluice::control {

// `source` (when given) adds the store's state to /v1/registry and /metrics;
// `loads` (when given) the LRS reports to /v1/zones and /metrics; `drains`
// (when given) each zone's drain and guard state; `drift` each node's drift
// in /v1/nodes and /metrics; `watch_check` the registry watch's check in
// /v1/registry and /metrics; `node_admin` (when given) the admin proxy's
// counters to /metrics.
void addStatusHandlers(admin::AdminServer& server, ControlPlane& control_plane, const RegistrySource* source = nullptr,
                       const LoadReports* loads = nullptr, const DrainController* drains = nullptr,
                       const DriftDetector* drift = nullptr, const WatchChecker* watch_check = nullptr,
                       const NodeAdminCounters* node_admin = nullptr);

}  // namespace sluice::control
