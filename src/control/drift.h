// Drift detection (issue 15, 3): Slack's worst day was proxies serving a
// stale backend list for hours while monitoring saw nothing. Two checks,
// both on the main thread:
//
// - DriftDetector: per connected proxy and EDS cluster, what it serves (the
//   assignment it ACKed: its version and a hash of its effective endpoints)
//   against what its current snapshot gives it. A proxy whose endpoints
//   differ for longer than the threshold is `behind` (counted once per
//   episode; a gauge of those behind now).
// - WatchChecker: the control plane's own registry watch, one level up. Every
//   interval the store is read whole and compared with what the watch
//   delivered (RegistrySource::checkWatch); a mismatch is logged, counted,
//   shown, and the read applied.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "control/control_plane.h"
#include "control/registry_source.h"

namespace sluice::control {

// A hash (16 hex digits) of what a ClusterLoadAssignment makes a proxy
// serve: per locality (region/zone/sub_zone, priority, weight) its endpoints
// (address:port, health, weight), in a canonical order; "" when `resource`
// is not one.
std::string effectiveEndpointsHash(const Resource& resource);

struct ClusterDrift {
  std::string name;
  std::string acked_version;      // "" when the proxy has ACKed nothing for it
  std::string acked_endpoints;    // effectiveEndpointsHash of the ACKed one ("" when unknown)
  std::string current_version;    // what the snapshot gives it now
  std::string current_endpoints;  // and its hash
  bool behind = false;
};

struct NodeDrift {
  uint64_t generation = 0;                   // the session's generation() when compared
  std::vector<std::string> clusters_behind;  // differing now (reported only past the threshold)
  bool reported = false;                     // behind for longer than the threshold
  std::chrono::system_clock::time_point behind_since;
  std::chrono::steady_clock::time_point behind_since_steady;
};

// Every EDS cluster of `session`: what it ACKed against what it should have.
// `hash` gives a resource's effectiveEndpointsHash (cached by the caller).
std::vector<ClusterDrift> compareEndpoints(
    const XdsSession& session, const std::function<std::string(const std::shared_ptr<const Resource>&)>& hash);

class DriftDetector {
 public:
  DriftDetector(asio::io_context& io, ControlPlane& control_plane, std::chrono::milliseconds threshold);
  // Checks every threshold/4 (at least every second, at most every 50 ms).
  void start();
  // One pass over every session; one whose generation() has not moved since
  // the last pass keeps its result (only the threshold is looked at again).
  void check();

  // The session's drift as /v1/nodes shows it: {state: in_sync|behind,
  // behind_since, clusters_behind: [names], clusters: [...]}.
  nlohmann::json json(uint64_t session) const;
  size_t drifted() const;
  uint64_t events() const { return events_; }
  std::chrono::milliseconds threshold() const { return threshold_; }

 private:
  void arm();
  std::string hashOf(const std::shared_ptr<const Resource>& resource);
  static std::string hashUncached(const std::shared_ptr<const Resource>& resource);

  ControlPlane& control_plane_;
  std::chrono::milliseconds threshold_;
  asio::steady_timer timer_;
  std::map<uint64_t, NodeDrift> nodes_;             // by session
  std::map<std::string, std::string> hashes_;       // resource version -> effective endpoints hash
  std::map<std::string, std::string> hashes_seen_;  // this pass's (the cache keeps only what is in use)
  uint64_t events_ = 0;                             // proxies that became reported behind
};

struct WatchCheckStatus {
  std::chrono::milliseconds interval{0};
  uint64_t checks = 0;
  uint64_t mismatches = 0;
  uint64_t busy = 0;        // the store changed during the check: nothing concluded
  uint64_t errors = 0;      // the store could not be read
  std::string last_result;  // in_sync | mismatch | busy | failed
  std::string last_mismatch;
  std::chrono::system_clock::time_point last_check_at;
  std::chrono::system_clock::time_point last_mismatch_at;
  std::string last_error;
};

class WatchChecker {
 public:
  WatchChecker(asio::io_context& io, RegistrySource& source, std::chrono::milliseconds interval);
  // Checks every interval (none when it is 0). The grace a differing read
  // waits for an event in flight is min(interval, 1 s).
  void start();
  const WatchCheckStatus& status() const { return status_; }
  nlohmann::json json() const;

 private:
  asio::awaitable<void> run();

  asio::io_context& io_;
  RegistrySource& source_;
  WatchCheckStatus status_;
};

}  // namespace sluice::control
