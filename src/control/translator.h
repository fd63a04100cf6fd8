// Translation of a registry into what one kind of node gets (issue 14, 3):
// for each HTTP/1 service and zone a cluster `<service>.<zone>` fed by EDS
// over ADS and its ClusterLoadAssignment (one locality per zone); for the
// gateway named by node.cluster a Listener with an HTTP connection manager
// taking its routes by RDS over ADS, and a RouteConfiguration whose routes
// split over the service's zone clusters (`weighted_clusters`,
// `runtime_key_prefix`); an RTDS Runtime layer `zone_weights` with the
// weights. A route's own weights say only where the service has instances
// (100 or 0), the runtime layer adds the zone weights, so a drain changes
// RTDS alone. Every resource passes sluice's own validator before it is kept.
// Pure functions; any thread.
#pragma once

#include <memory>
#include <string>

#include "control/registry.h"
#include "control/snapshot.h"

namespace sluice::control {

inline constexpr std::string_view kRuntimeLayerName = "zone_weights";

// The runtime key prefix of a service's weighted clusters; the key of a zone
// cluster is `<prefix>.<service>.<zone>` (Envoy's runtime_key_prefix rule).
std::string runtimeKeyPrefix(const std::string& service);
std::string zoneClusterName(const std::string& service, const std::string& zone);

// The snapshot for nodes whose node.cluster is `node_cluster` (a gateway's
// name, or anything else: clusters, endpoints and runtime only).
std::shared_ptr<const Snapshot> translate(const Registry& registry, const std::string& node_cluster);

// The checks the sluice xDS client runs on a response, on one resource:
// protoc-gen-validate rules, the supported subset, and for route tables the
// semantic checks. "" when sluice would accept it, else the errors.
std::string checkResource(XdsType type, const Resource& resource);

}  // namespace sluice::control
