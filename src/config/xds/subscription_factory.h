// Envoy's SubscriptionFactory: the subscription a ConfigSource asks for, a
// file (`path_config_source`), a type URL of the ADS stream (`ads`), or a
// stream of its own to a per-type service (`api_config_source`).
// Main thread only.
#pragma once

#include <functional>
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
  // The stream of an `api_config_source` subscription to `type_url` (one of
  // its own, to the per-type service), created on demand.
  std::function<AdsMux*(const envoy::config::core::v3::ApiConfigSource&, const std::string& type_url)> api;
};

// What subscriptions of the same source share: "" for ADS, "file:<path>",
// "api:<the api_config_source, serialized>". EDS, RDS and RTDS make one
// subscription per key, carrying every name of that source.
std::string sourceKey(const envoy::config::core::v3::ConfigSource& source);
// Whether the source is a gRPC stream (ads or api_config_source).
inline bool overGrpc(const envoy::config::core::v3::ConfigSource& source) {
  return source.has_ads() || source.has_api_config_source();
}

// The bidi method of the per-type discovery service for `type_url`
// ("/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters", or
// DeltaClusters with `delta`); empty for a type with no service.
std::string serviceMethod(const std::string& type_url, bool delta);

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
