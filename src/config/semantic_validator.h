// The third validation layer: rules that span fields and resources (names that
// must be unique, routes that must name existing clusters, weights that must
// add up, addresses that must parse). Runs after the proto has loaded; reports
// every problem with its field path. Main thread only.
#pragma once

#include "config/config_error.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace sluice::config {

void checkSemantics(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, ErrorList& errors);

// The same checks for a route configuration delivered by RDS, but for the
// cluster references (as Envoy, for RDS: an unknown cluster is a 503 at
// request time). Paths start at `path`.
void checkRouteConfiguration(const envoy::config::route::v3::RouteConfiguration& config, const std::string& path,
                             ErrorList& errors);

// True when `text` is an IPv4 or IPv6 literal.
bool isIpLiteral(const std::string& text);

}  // namespace sluice::config
