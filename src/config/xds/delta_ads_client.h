// The incremental ("delta") ADS protocol (Envoy's xDS protocol document,
// DeltaAggregatedResources), on the main thread. Per type URL the client
// keeps the names it wants (none: a wildcard subscription, as Envoy's
// legacy wildcard), the names the server was told of on this stream, and
// the version of every resource accepted. A response carries only what
// changed: added or updated resources, and removed names; each resource is
// accepted or rejected on its own, and the client ACKs (the nonce) or NACKs
// (the nonce and error_detail). Name changes go out as
// resource_names_subscribe / _unsubscribe. When a stream opens, every type
// is subscribed again with initial_resource_versions (the versions it holds),
// so the server sends only what changed meanwhile. The node goes on the
// first request of a stream, and on every request unless
// set_node_on_first_message_only. Main thread only.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/xds/ads_client.h"
#include "config/xds/ads_transport.h"
#include "envoy/config/core/v3/base.pb.h"
#include "stats/stats.h"

namespace sluice::config::xds {

class DeltaAdsClient final : public AdsMux, public DeltaAdsStreamEvents {
 public:
  // `transport` and `store` outlive the client. control_plane.* stats come from `store`.
  DeltaAdsClient(DeltaAdsTransport& transport, envoy::config::core::v3::Node node, bool node_on_first_message_only,
                 stats::Store& store);
  ~DeltaAdsClient() override;

  void subscribe(const std::string& type_url, std::vector<std::string> names, AdsWatcher& watcher) override;
  void updateNames(const std::string& type_url, std::vector<std::string> names) override;
  void start() override;
  void stop() override;
  bool connected() const override { return stream_ != 0; }

  // The versions of `type_url`'s accepted resources (tests, config dump).
  const std::map<std::string, std::string>& versions(const std::string& type_url) const;

  // DeltaAdsStreamEvents
  void onStreamOpen(uint64_t stream, const std::string& peer) override;
  void onResponse(uint64_t stream, envoy::service::discovery::v3::DeltaDiscoveryResponse response,
                  ReceivedAt received) override;
  void onStreamClosed(uint64_t stream, const std::string& reason) override;

 private:
  struct TypeState {
    bool wildcard = false;
    std::set<std::string> names;                  // wanted (not wildcard)
    std::set<std::string> told;                   // subscribed on this stream
    std::map<std::string, std::string> versions;  // accepted resources' versions, by name
    AdsWatcher* watcher = nullptr;
  };
  // The first request of a type on a stream: its names and versions.
  void sendInitial(const std::string& type_url, TypeState& state);
  // The names that changed since the server was told (nothing sent if none).
  void sendNameChanges(const std::string& type_url, TypeState& state);
  void send(envoy::service::discovery::v3::DeltaDiscoveryRequest request, const std::string* error = nullptr);

  DeltaAdsTransport& transport_;
  const envoy::config::core::v3::Node node_;
  const bool node_on_first_message_only_;
  std::vector<std::string> order_;  // type URLs in Envoy's warming order
  std::map<std::string, TypeState> types_;
  uint64_t stream_ = 0;  // the open stream, 0: none
  bool node_sent_ = false;
  bool started_ = false;
  stats::Gauge& connected_state_;
};

}  // namespace sluice::config::xds
