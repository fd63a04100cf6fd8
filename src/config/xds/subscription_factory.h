// Envoy's SubscriptionFactory: the subscription a ConfigSource asks for, a
// file (`path_config_source`) or a type URL of the ADS stream (`ads`).
// Main thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/file_watcher.h"
#include "config/subscription.h"
#include "config/xds/ads_client.h"
#include "envoy/config/core/v3/config_source.pb.h"

namespace sluice::config::xds {

struct SubscriptionSources {
  FileWatcher& watcher;
  AdsMux* ads = nullptr;  // null without dynamic_resources.ads_config
};

// `type`: the message every resource must be ("envoy.config.cluster.v3.Cluster").
// `names`: the resources wanted (empty: all, a wildcard). `optional_file`: a
// file not written yet is no error (its resources warm until it is).
// The gate admits only the sources handled here; `sources` and `callbacks`
// outlive the subscription.
std::unique_ptr<Subscription> makeSubscription(const SubscriptionSources& sources,
                                               const envoy::config::core::v3::ConfigSource& source, std::string type,
                                               std::vector<std::string> names, SubscriptionCallbacks& callbacks,
                                               bool optional_file = false);

}  // namespace sluice::config::xds
