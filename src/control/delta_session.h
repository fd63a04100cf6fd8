// One delta ADS stream's protocol state (envoy.service.discovery.v3
// DeltaAggregatedResources; issue 14, 4). Like AdsSession it is pure logic:
// requests in through onRequest(), snapshots through setSnapshot(),
// responses out through a DeltaResponseSink. Main thread only.
//
// Per type it holds the names subscribed (or the wildcard) and the version of
// every resource the client has, and sends only the difference between that
// and the snapshot. The rules (docs/ARCHITECTURE.md, "sluice-control"):
// - resource_names_subscribe / _unsubscribe change the subscription; a first
//   CDS or LDS request naming nothing, or "*", is the wildcard;
// - initial_resource_versions (a reconnect) say what the client has: a
//   resource whose version matches is not sent again;
// - a response carries the resources that changed and removed_resources;
//   what the client has is updated when it ACKs (a NACKed response changes
//   nothing on the client);
// - ACK or NACK is read from error_detail of the request naming the
//   outstanding nonce; a stale nonce is neither, but its subscription
//   changes are kept;
// - a NACKed resource version is parked: not sent again until its content
//   changes;
// - at most one un-ACKed response per type;
// - make before break: changes go in kPushOrder; removals (and an assignment
//   losing its last endpoints) wait until nothing else is outstanding, then
//   go listeners, routes, endpoints, clusters;
// - EDS names the snapshot lacks get an empty assignment;
// - a first request with nothing to send gets an empty response, so the
//   client's initial fetch ends.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "control/ads_session.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace sluice::control {

class DeltaResponseSink {
 public:
  virtual ~DeltaResponseSink() = default;
  virtual void send(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response) = 0;
};

class DeltaAdsSession final : public XdsSession {
 public:
  DeltaAdsSession(DeltaResponseSink& sink, SessionCounters& counters) : sink_(sink), counters_(counters) {}

  void onRequest(const envoy::service::discovery::v3::DeltaDiscoveryRequest& request);
  void setSnapshot(std::shared_ptr<const Snapshot> snapshot) override;
  TypeStatus status(XdsType type) const override;
  bool isDelta() const override { return true; }
  Resources ackedResources(XdsType type) const override;
  std::map<std::string, std::string> ackedVersions(XdsType type) const override { return clientVersions(type); }
  Resources desiredResources(XdsType type) const override { return desired(type, state(type)); }

  // The version of each resource of `type` the client has (ACKed).
  std::map<std::string, std::string> clientVersions(XdsType type) const;

 private:
  struct Held {
    std::string version;  // "" in a pending response: removed
    bool empty_assignment = false;
    std::shared_ptr<const Resource> resource;  // null when only the version is known (initial_resource_versions)
  };
  struct TypeState {
    bool subscribed = false;
    bool wildcard = false;
    std::set<std::string> names;
    std::map<std::string, Held> known;  // what the client has
    bool awaiting_ack = false;
    std::string sent_nonce;
    std::map<std::string, Held> pending;        // the outstanding response's changes
    std::map<std::string, std::string> nacked;  // parked: name → the version NACKed
    std::string nack_error;
    std::string nacked_version;
    std::string sent_version;  // the client's state once it applies the last response
    bool sent_any = false;
    bool answer_empty = false;  // the first request: answer even with nothing to send
  };
  TypeState& state(XdsType type) { return types_[static_cast<size_t>(type)]; }
  const TypeState& state(XdsType type) const { return types_[static_cast<size_t>(type)]; }
  // What the client should have of `type` now.
  Resources desired(XdsType type, const TypeState& s) const;
  // Sends what changed of `type` (and, with `removals`, what went); false
  // when nothing was sent.
  bool push(XdsType type, bool removals);
  void pushAll();
  bool anyAwaiting() const;

  DeltaResponseSink& sink_;
  SessionCounters& counters_;
  std::array<TypeState, kXdsTypeCount> types_;
  uint64_t nonce_ = 0;
};

}  // namespace sluice::control
