// The REST endpoints that wait on I/O (AdminServer::addAsync):
//   PUT    /v1/services/{svc}/instances/{address}:{port}   register (JSON body: zone, weight, health, metadata)
//   DELETE /v1/services/{svc}/instances/{address}:{port}   deregister
//   GET    /v1/diff?peer=http://IP:PORT                     this replica's snapshots against the peer's
// Writes go to the registry store (RegistrySource::writeInstance; the file
// store answers 501) and come back through its watch like any change.
#pragma once

#include "admin/admin_server.h"
#include "control/control_plane.h"
#include "control/registry_source.h"

namespace sluice::control {

void addRegistryApi(admin::AdminServer& server, ControlPlane& control_plane, RegistrySource& source);

// The instance named by a path's last segment: "127.0.0.1:8080" or "[::1]:8080".
bool parseInstanceSegment(std::string_view segment, std::string& address, uint32_t& port);

}  // namespace sluice::control
