// Envoy's subscription stats, under one prefix: cluster_manager.cds,
// listener_manager.lds, runtime, http.<prefix>.rds.<route_config> and, for
// an EDS cluster, cluster.<name> (Envoy scopes a cluster's EDS subscription
// to the cluster). Listed from the start at 0. Main thread only.
#pragma once

#include <cstdint>
#include <string>

#include "stats/stats.h"

namespace sluice::server {

struct SubscriptionStats {
  SubscriptionStats(stats::Store& store, const std::string& prefix);

  // An update of `version_info` was applied (or changed nothing): success,
  // version and update_time.
  void applied(const std::string& version_info);

  stats::Counter& attempt;             // every update and failure
  stats::Counter& success;             // applied
  stats::Counter& rejected;            // invalid: kept the previous config (a NACK over gRPC)
  stats::Counter& failure;             // the source could not be reached
  stats::Counter& init_fetch_timeout;  // initial_fetch_timeout passed with no answer
  stats::Gauge& version;               // a hash of the version_info applied last (Envoy: xxHash64; sluice: hash64)
  stats::Gauge& update_time;           // when the last update was applied, ms since the epoch
  bool attempt_counted = false;        // by the update that is failing now
};

// The `version` gauge of `version_info`: hash64, kept positive.
int64_t versionHash(const std::string& version_info);

}  // namespace sluice::server
