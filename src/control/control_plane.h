// The control plane's state on the main thread: the registry being served
// (and the last rejected update), the translated snapshots cached per
// node.cluster (one per distinct translation, shared by every node that
// gets it), the ADS sessions, and the debounce of registry changes.
// Everything here runs on the main io_context; the gRPC threads reach it
// only by posting (ads_server.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "control/ads_session.h"
#include "control/delta_session.h"
#include "control/registry.h"
#include "control/snapshot.h"

namespace sluice::control {

struct ControlOptions {
  // A registry change waits this long for more changes (each one restarts
  // the wait) ...
  std::chrono::milliseconds debounce{100};
  // ... but never longer than this after the first one.
  std::chrono::milliseconds debounce_max{10000};
};

struct RegistryStatus {
  std::string source;   // "file:/etc/registry.yaml"
  std::string version;  // content hash of the registry served
  std::chrono::system_clock::time_point accepted_at;
  uint64_t accepted = 0;   // updates accepted since start (the first read included)
  uint64_t rejected = 0;   // updates rejected since start
  std::string last_error;  // the last rejected update's errors; "" when the last update was accepted
  std::chrono::system_clock::time_point rejected_at;
};

class ControlPlane {
 public:
  ControlPlane(asio::io_context& io, ControlOptions options) : options_(options), debounce_timer_(io) {}

  // The first registry, applied at once.
  void start(std::shared_ptr<const Registry> registry, std::string source);
  // A later accepted registry: applied after the debounce.
  void onRegistryUpdate(std::shared_ptr<const Registry> registry);
  // A rejected update: the registry served stays.
  void onRegistryRejected(const std::string& error);

  // ADS streams, SotW and delta. `sink` outlives the session (closeSession()
  // is called first).
  uint64_t openSession(ResponseSink& sink);
  uint64_t openSession(DeltaResponseSink& sink);
  void onRequest(uint64_t session, const envoy::service::discovery::v3::DiscoveryRequest& request);
  void onRequest(uint64_t session, const envoy::service::discovery::v3::DeltaDiscoveryRequest& request);
  void closeSession(uint64_t session);

  // The snapshot edge nodes of `node_cluster` get now (translated once per
  // registry version); the one gRPC clients get; the one `node` gets.
  std::shared_ptr<const Snapshot> snapshotFor(const std::string& node_cluster);
  std::shared_ptr<const Snapshot> grpcClientSnapshot();
  std::shared_ptr<const Snapshot> snapshotFor(const envoy::config::core::v3::Node& node);

  // Zone weights that rule over the registry's zone_weights (the zones'
  // drains, drain_controller.h): applied at once, no debounce.
  void setZoneWeights(std::map<std::string, uint32_t> weights);

  // The registry served: the store's, with the zone weights set above.
  const std::shared_ptr<const Registry>& registry() const { return registry_; }
  // The registry as the store holds it.
  const std::shared_ptr<const Registry>& storeRegistry() const { return base_; }
  const RegistryStatus& registryStatus() const { return status_; }
  const std::map<uint64_t, std::unique_ptr<XdsSession>>& sessions() const { return sessions_; }
  const SessionCounters& counters() const { return counters_; }
  uint64_t registryChangesApplied() const { return applied_; }
  size_t cachedSnapshots() const { return snapshots_.size() + (grpc_snapshot_ ? 1 : 0); }

 private:
  void apply(std::shared_ptr<const Registry> registry);
  // Serves base_ with zone_weights_ over it.
  void rebuild();
  void armDebounce();
  // The session's node from its first request; false when `id` is gone.
  XdsSession* sessionFor(uint64_t id, const envoy::config::core::v3::Node& node);

  ControlOptions options_;
  asio::steady_timer debounce_timer_;
  std::shared_ptr<const Registry> base_;
  std::map<std::string, uint32_t> zone_weights_;
  std::shared_ptr<const Registry> registry_;
  std::shared_ptr<const Registry> pending_;
  std::chrono::steady_clock::time_point pending_since_;
  RegistryStatus status_;
  uint64_t applied_ = 0;
  std::map<std::string, std::shared_ptr<const Snapshot>> snapshots_;
  std::shared_ptr<const Snapshot> grpc_snapshot_;
  std::map<uint64_t, std::unique_ptr<XdsSession>> sessions_;
  uint64_t next_session_ = 1;
  SessionCounters counters_;
};

// The registry as JSON (the status API's /v1/registry); its hash is the
// registry's version.
std::string registryJson(const Registry& registry);

}  // namespace sluice::control
