// The state-of-the-world ADS protocol (Envoy's xDS protocol document), on
// the main thread: one stream multiplexes every type URL subscribed to; per
// type URL the client keeps the resource names (empty: wildcard), the last
// accepted version_info and the stream's last nonce. A response goes to its
// type's watcher, which validates and applies it whole or not at all; the
// client then ACKs it (its version_info and nonce) or NACKs it (the previous
// version_info, its nonce, and error_detail with the watcher's error). When
// a stream opens, every subscription is requested again with the last
// accepted version and no nonce; the node goes on the first request of a
// stream, and on every request unless set_node_on_first_message_only.
// Nothing here touches gRPC: the transport (ads_transport.h) does.
// Main thread only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/xds/ads_transport.h"
#include "envoy/config/core/v3/base.pb.h"
#include "stats/stats.h"

namespace sluice::config::xds {

// Receives the responses of one type URL. Main thread.
class AdsWatcher {
 public:
  virtual ~AdsWatcher() = default;
  // A response of the watched type. True: accepted (ACK). False with
  // `error`: rejected (NACK); nothing of it may have been applied.
  virtual bool onResponse(const envoy::service::discovery::v3::DiscoveryResponse& response, ReceivedAt received,
                          std::string& error) = 0;
  // A delta response: resources added or changed, names removed. Each
  // resource is accepted or rejected on its own; `accepted` gets the names
  // of those applied (their versions are the ones a reconnect reports).
  // False with `error` when any was rejected (a NACK).
  virtual bool onDeltaResponse(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response,
                               ReceivedAt received, std::vector<std::string>& accepted, std::string& error) {
    (void)response;
    (void)received;
    (void)accepted;
    error = "this subscription takes no delta responses";
    return false;
  }
  // The stream closed; the watcher keeps its resources (last good config).
  virtual void onStreamFailure() {}
};

inline constexpr char kClusterType[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr char kEndpointType[] = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr char kListenerType[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr char kRouteType[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr char kRuntimeType[] = "type.googleapis.com/envoy.service.runtime.v3.Runtime";

// Envoy's init order: RTDS, then the warming order CDS, EDS, LDS, RDS, then the others. A stream that
// opens requests the types in this order, whatever order they were
// subscribed in (a static listener's RDS comes before LDS is subscribed).
int typeRank(const std::string& type_url);

// One ADS stream shared by every subscription (Envoy's GrpcMux): the state
// of the world (AdsClient) or the delta protocol (DeltaAdsClient).
class AdsMux {
 public:
  virtual ~AdsMux() = default;
  // Subscribes `watcher` (outliving the mux) to `type_url`; `names` empty
  // is a wildcard subscription. Sent now if a stream is open, else when one opens.
  virtual void subscribe(const std::string& type_url, std::vector<std::string> names, AdsWatcher& watcher) = 0;
  // New resource names for `type_url` (EDS after a CDS update, RDS as
  // listeners come and go). The state of the world requests them at once,
  // even unchanged (a re-request); delta sends what changed.
  virtual void updateNames(const std::string& type_url, std::vector<std::string> names) = 0;
  // Starts the transport. stop() closes it: no watcher is called after.
  virtual void start() = 0;
  virtual void stop() = 0;
  virtual bool connected() const = 0;
};

class AdsClient final : public AdsMux, public AdsStreamEvents {
 public:
  // `transport` and `store` outlive the client. control_plane.* stats come from `store`.
  AdsClient(AdsTransport& transport, envoy::config::core::v3::Node node, bool node_on_first_message_only,
            stats::Store& store);
  ~AdsClient() override;

  void subscribe(const std::string& type_url, std::vector<std::string> names, AdsWatcher& watcher) override;
  void updateNames(const std::string& type_url, std::vector<std::string> names) override;
  void start() override;
  void stop() override;
  bool connected() const override { return stream_ != 0; }

  // AdsStreamEvents
  void onStreamOpen(uint64_t stream, const std::string& peer) override;
  void onResponse(uint64_t stream, envoy::service::discovery::v3::DiscoveryResponse response,
                  ReceivedAt received) override;
  void onStreamClosed(uint64_t stream, const std::string& reason) override;

 private:
  struct TypeState {
    SharedNames names = std::make_shared<const std::vector<std::string>>();  // sorted; empty: wildcard
    std::string version_info;                                                // last accepted
    std::string nonce;                                                       // of the last response on this stream
    AdsWatcher* watcher = nullptr;
  };
  // Sends `type_url`'s request: ACK (no `error`) or NACK.
  void sendRequest(const std::string& type_url, const TypeState& state, const std::string* error = nullptr);

  AdsTransport& transport_;
  const envoy::config::core::v3::Node node_;
  const bool node_on_first_message_only_;
  std::vector<std::string> order_;  // type URLs in Envoy's warming order (CDS, EDS, LDS, RDS, others)
  std::map<std::string, TypeState> types_;
  uint64_t stream_ = 0;  // the open stream, 0: none
  bool node_sent_ = false;
  bool started_ = false;
  stats::Gauge& connected_state_;
};

}  // namespace sluice::config::xds
