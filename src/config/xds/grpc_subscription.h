// A subscription to one type URL over ADS (Envoy's GrpcSubscriptionImpl),
// behind the same seam as the file one: each response is checked as a file's
// resources are (type, decoding, protoc-gen-validate rules, supported subset;
// config/discovery_file.h), then handed whole to the callbacks; a response
// rejected by either is NACKed with the error and nothing of it applied.
// Over the delta protocol each resource is checked on its own: the valid
// ones are handed over as a delta update, the response NACKed if any was not.
// Main thread only.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "config/subscription.h"
#include "config/xds/ads_client.h"

namespace sluice::config::xds {

class GrpcSubscription final : public Subscription, public AdsWatcher {
 public:
  // `type`: the message every resource must be, e.g. "envoy.config.cluster.v3.Cluster";
  // its type URL is the subscription's. `names` empty: wildcard.
  // `client` and `callbacks` outlive the subscription.
  GrpcSubscription(AdsMux& client, std::string type, std::vector<std::string> names, SubscriptionCallbacks& callbacks);

  // Subscribes with the client; the updates come when the server sends them.
  bool start(std::string& error) override;
  void updateResourceInterest(std::vector<std::string> names) override;

  bool onResponse(const envoy::service::discovery::v3::DiscoveryResponse& response, ReceivedAt received,
                  std::string& error) override;
  bool onDeltaResponse(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response, ReceivedAt received,
                       std::vector<std::string>& accepted, std::string& error) override;
  void onStreamFailure() override { callbacks_.onConnectionFailure(); }

 private:
  AdsMux& client_;
  const std::string type_;
  const std::string type_url_;
  std::vector<std::string> names_;
  SubscriptionCallbacks& callbacks_;
  // State of the world: the resources of the last accepted response, by
  // their bytes. A resource that comes again byte for byte (a SotW server
  // sends every resource in every response) is neither decoded nor checked
  // again: its checks depend on nothing but its bytes.
  std::unordered_map<std::string, DiscoveredResource> accepted_;
  bool started_ = false;
};

}  // namespace sluice::config::xds
