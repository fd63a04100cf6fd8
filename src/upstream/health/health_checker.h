// Active health checking of one cluster's hosts (Envoy's HealthCheckerImplBase
// with its HTTP and TCP sessions): one session per host, each a coroutine on
// the main thread's io_context that checks, feeds the result to the host's
// state machine (health_check_state.h) and waits for the next interval.
//
// Threads: everything here runs on the main thread, including the writes of
// the hosts' health flags. When a host's health changes, `health_changed`
// tells the cluster manager, which publishes new host sets to the workers
// (immutable snapshots, as for any endpoint update); workers never read the
// flags. Workers report x-envoy-immediate-health-check-fail through monitor(),
// which posts to the main thread. Owned by the cluster manager; stop() ends
// every session (a session that is mid-I/O resumes once, sees it was stopped
// and touches nothing).
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "envoy/config/core/v3/health_check.pb.h"
#include "network/asio_util.h"
#include "proxy/proxy_config.h"
#include "stats/stats.h"
#include "upstream/health/health_check_state.h"
#include "upstream/host.h"

namespace sluice::upstream::health {

// [start, end) of HTTP statuses.
struct StatusRange {
  int64_t start = 200;
  int64_t end = 201;
  bool contains(int64_t status) const { return status >= start && status < end; }
};

// One HealthCheck, compiled (validated before: see config/semantic_validator).
struct HealthCheckSpec {
  enum class Kind : uint8_t { Http, Tcp } kind = Kind::Http;
  Timing timing;
  bool reuse_connection = true;
  bool always_log_failures = false;
  std::string event_log_path;
  // http_health_check
  std::string path;
  std::string host;  // the Host header; the cluster's name when empty
  std::vector<StatusRange> expected{StatusRange{}};
  std::vector<StatusRange> retriable;
  std::vector<std::pair<std::string, std::string>> headers_to_add;  // lowercase names
  std::vector<std::string> headers_to_remove;                       // lowercase
  // tcp_health_check: raw bytes (decoded from hex text)
  std::string send;
  std::vector<std::string> receive;
};
// `check` passed validation; `cluster` names the Host default.
HealthCheckSpec compileHealthCheck(const envoy::config::core::v3::HealthCheck& check, const std::string& cluster);

// cluster.<name>.health_check.*
struct HealthCheckStats {
  HealthCheckStats(stats::Store& store, const std::string& cluster_stat_name);
  stats::Counter& attempt;
  stats::Counter& success;
  stats::Counter& failure;
  stats::Counter& network_failure;
  stats::Counter& passive_failure;
  stats::Counter& verify_cluster;  // service_name_matcher checks: sluice has none, so it stays 0
  stats::Gauge& healthy;           // hosts checked and not failed_active_hc
};

// Does every byte of `received` so far contain `payloads` in order (Envoy's
// PayloadMatcher)? An empty list always matches.
bool payloadsMatch(const std::vector<std::string>& payloads, std::string_view received);

class ClusterHealthChecker : public std::enable_shared_from_this<ClusterHealthChecker> {
 public:
  struct Callbacks {
    std::function<void()> health_changed;        // some host's health flags changed
    std::function<bool()> had_traffic;           // the cluster ever made an upstream connection
    std::function<void(const HostPtr&)> passed;  // a host passed a check (may be empty)
  };
  ClusterHealthChecker(asio::any_io_executor executor, std::string cluster, HealthCheckSpec spec,
                       std::shared_ptr<HealthCheckStats> stats, Callbacks callbacks);
  ~ClusterHealthChecker();
  ClusterHealthChecker(const ClusterHealthChecker&) = delete;
  ClusterHealthChecker& operator=(const ClusterHealthChecker&) = delete;

  // The cluster's hosts now: sessions start for new hosts (after
  // initial_jitter) and stop for hosts that left; staying hosts keep theirs.
  void setHosts(const HostSet& hosts);
  // Ends every session.
  void stop();
  // x-envoy-immediate-health-check-fail from a proxied response of the host
  // at `address_string`: excluded and failed at once (a PASSIVE failure).
  void immediateFailure(const std::string& address_string);
  // For the workers (ClusterConfig::health_monitor); posts to this thread.
  std::shared_ptr<const proxy::HostHealthMonitor> monitor();

  const HealthCheckSpec& spec() const { return spec_; }

 private:
  class Session;
  struct Result {
    bool success = false;
    FailureType type = FailureType::Active;
    bool retriable = false;
  };
  // A result for `session`'s host: state machine, stats, event log, callbacks.
  Transition record(Session& session, const Result& result);
  void countHealthy();
  void logEvent(const Host& host, std::string_view event);

  asio::any_io_executor executor_;
  std::string cluster_;
  HealthCheckSpec spec_;
  std::shared_ptr<HealthCheckStats> stats_;
  Callbacks callbacks_;
  FastRandom random_;
  std::FILE* event_log_ = nullptr;
  std::unordered_map<const Host*, std::shared_ptr<Session>> sessions_;  // each holds its HostPtr
};

}  // namespace sluice::upstream::health
