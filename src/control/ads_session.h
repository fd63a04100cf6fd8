// One ADS stream's protocol state, state of the world (issue 14, 4): what
// the node subscribed to per type, what was sent (version, nonce), what it
// ACKed or NACKed. Pure logic with no I/O: requests come in through
// onRequest(), new snapshots through setSnapshot(), responses go out through
// a ResponseSink, so tests drive it with a fake stream. Main thread only.
//
// The rules (docs/ARCHITECTURE.md, "sluice-control"; /work/shared/XDS-LESSONS.md):
// - versions per type are content hashes of what the response holds, so
//   replicas agree and an unchanged type is not re-sent;
// - at most one un-ACKed response per type; a change meanwhile is sent after
//   the ACK (or NACK);
// - ACK or NACK is read from error_detail, never from version or nonce;
// - a NACKed version is parked: not sent again until the content changes;
// - a request with a stale nonce is not an ACK or NACK, but its names are kept
//   and honoured on the next response;
// - a request that is not the answer to an outstanding response (a new
//   stream, new names, the client asking again after a CDS change) is always
//   answered, even when it claims the current version;
// - EDS names the snapshot does not have get an empty assignment;
// - an empty CDS/LDS request is a wildcard only while the stream has named
//   nothing for the type; after names it means nothing;
// - make before break: types are pushed in kPushOrder, and a snapshot that
//   removes listeners or clusters, or the last endpoints of an assignment,
//   first sends them kept, then (once everything is ACKed) without them, in
//   kRemovalOrder: listeners, then endpoints, then clusters.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "control/snapshot.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace sluice::control {

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void send(const envoy::service::discovery::v3::DiscoveryResponse& response) = 0;
};

// Counters a session adds to (the server's /metrics).
struct SessionCounters {
  uint64_t pushes = 0;
  uint64_t acks = 0;
  uint64_t nacks = 0;
  uint64_t nack_parked = 0;  // a change not sent because it is the NACKed content
  uint64_t stale_nonces = 0;
  uint64_t unknown_types = 0;
  uint64_t resources_sent = 0;  // resources in the responses sent (SotW: all of them; delta: the changed ones)
  uint64_t removals_sent = 0;   // delta: names in removed_resources
};

inline constexpr std::array<XdsType, 3> kRemovalOrder = {XdsType::Listener, XdsType::Endpoint, XdsType::Cluster};

enum class SyncState { NotSent, Synced, Stale, Nacked };
std::string_view syncStateName(SyncState state);

// One type's sync state as the status API shows it (SotW and delta alike).
struct TypeStatus {
  bool subscribed = false;
  bool wildcard = false;
  std::set<std::string> names;
  std::string sent_version;  // "" before anything was sent
  std::string sent_nonce;
  bool awaiting_ack = false;
  std::string acked_version;
  std::string nack_error;  // the last response's NACK, "" after an ACK
  std::string nacked_version;
  std::string current_version;  // what the current snapshot gives these names
  SyncState state = SyncState::NotSent;
};

// What ControlPlane and the status API see of a stream, SotW or delta.
class XdsSession {
 public:
  using Clock = std::chrono::system_clock;

  virtual ~XdsSession() = default;

  // The node, from the stream's first request (later ones may omit it).
  void setNode(const envoy::config::core::v3::Node& node) {
    node_ = node;
    has_node_ = true;
  }
  // The snapshot for this node now; pushes what changed.
  virtual void setSnapshot(std::shared_ptr<const Snapshot> snapshot) = 0;
  virtual TypeStatus status(XdsType type) const = 0;
  virtual bool isDelta() const = 0;
  using Resources = std::map<std::string, std::shared_ptr<const Resource>>;
  // What the client ACKed of `type`, by name (drift.h); a resource whose
  // content is not known (a delta client's initial_resource_versions) is
  // null. The client's version of each is in ackedVersions().
  virtual Resources ackedResources(XdsType type) const = 0;
  virtual std::map<std::string, std::string> ackedVersions(XdsType type) const = 0;
  // What the client should have of `type` now, from the current snapshot.
  virtual Resources desiredResources(XdsType type) const = 0;

  bool hasNode() const { return has_node_; }
  const envoy::config::core::v3::Node& node() const { return node_; }
  const std::shared_ptr<const Snapshot>& snapshot() const { return snapshot_; }
  Clock::time_point connectedSince() const { return connected_since_; }
  // Bumped by every request and every new snapshot: what the session holds
  // is unchanged while this is (drift.h skips such a session).
  uint64_t generation() const { return generation_; }

 protected:
  // The fields of a type's status both protocols keep under the same names;
  // the versions and the state are each protocol's own.
  template <class State>
  static TypeStatus commonStatus(const State& s) {
    TypeStatus out;
    out.subscribed = s.subscribed;
    out.wildcard = s.wildcard;
    out.names = s.names;
    out.sent_version = s.sent_version;
    out.sent_nonce = s.sent_nonce;
    out.awaiting_ack = s.awaiting_ack;
    out.nack_error = s.nack_error;
    out.nacked_version = s.nacked_version;
    return out;
  }

  bool has_node_ = false;
  envoy::config::core::v3::Node node_;
  std::shared_ptr<const Snapshot> snapshot_;
  Clock::time_point connected_since_ = Clock::now();
  uint64_t generation_ = 0;
};

class AdsSession final : public XdsSession {
 public:
  using TypeStatus = control::TypeStatus;

  AdsSession(ResponseSink& sink, SessionCounters& counters) : sink_(sink), counters_(counters) {}

  void onRequest(const envoy::service::discovery::v3::DiscoveryRequest& request);
  void setSnapshot(std::shared_ptr<const Snapshot> snapshot) override;
  TypeStatus status(XdsType type) const override;
  bool isDelta() const override { return false; }
  Resources ackedResources(XdsType type) const override { return state(type).acked_resources; }
  std::map<std::string, std::string> ackedVersions(XdsType type) const override;
  Resources desiredResources(XdsType type) const override;

 private:
  struct TypeState {
    bool subscribed = false;
    bool wildcard = false;
    std::set<std::string> names;
    std::string sent_version;
    std::string sent_nonce;
    std::set<std::string> sent_names;
    bool awaiting_ack = false;
    std::string acked_version;
    std::string nack_error;
    std::string nacked_version;  // parked: not sent again while the content is this
    bool asked_again = false;    // answer the next push even when the version is unchanged
    // Make before break: removals kept in the response until this phase ends.
    bool keep_removed = false;
    std::map<std::string, std::shared_ptr<const Resource>> sent_resources;
    std::map<std::string, std::shared_ptr<const Resource>> acked_resources;  // the last ACKed response's
  };
  struct Response {
    std::vector<std::shared_ptr<const Resource>> resources;
    std::string version;
  };

  TypeState& state(XdsType type) { return types_[static_cast<size_t>(type)]; }
  const TypeState& state(XdsType type) const { return types_[static_cast<size_t>(type)]; }
  Response build(XdsType type, const TypeState& s) const;
  void push(XdsType type);
  void pushAll();
  // Ends the make-before-break phase once nothing else awaits an ACK.
  void finishRemovals();

  ResponseSink& sink_;
  SessionCounters& counters_;
  std::array<TypeState, kXdsTypeCount> types_;
  uint64_t nonce_ = 0;
};

}  // namespace sluice::control
