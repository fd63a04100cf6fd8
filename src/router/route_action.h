// What a forwarding route does (Envoy's RouteAction): which cluster, how the
// path and host are rewritten, timeouts, the hash for consistent hashing and
// per-route upgrade settings. PathRewrite is shared with redirects.
// Immutable once built; every method is const and safe from any worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config_error.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "router/hash_policy.h"
#include "router/regex.h"
#include "router/request.h"
#include "router/retry_policy.h"
#include "runtime/runtime.h"

namespace sluice::router {

// prefix_rewrite or regex_rewrite of a path; the query string is kept as is.
class PathRewrite {
 public:
  // nullopt when neither is configured or (with errors added) the regex is bad.
  // The two fields are siblings named `prefix_rewrite` and `regex_rewrite` under `path`.
  static std::optional<PathRewrite> build(const std::string& prefix_rewrite,
                                          const envoy::type::matcher::v3::RegexMatchAndSubstitute* regex_rewrite,
                                          std::string_view path, config::ErrorList& errors);

  // `path` is the full :path; `matched_length` is how many leading bytes of it
  // the route matched (what a prefix rewrite replaces).
  std::string apply(std::string_view path, size_t matched_length) const;

 private:
  std::string prefix_;
  std::shared_ptr<const RegexSubstitution> regex_;  // set: regex rewrite
};

// A weighted_clusters entry, with the runtime key that may override its weight.
struct WeightedClusterEntry {
  std::string name;
  uint32_t weight = 0;
  std::string runtime_key;  // `<runtime_key_prefix>.<name>`; empty without a prefix
};

class RouteAction {
 public:
  enum class ClusterKind { kCluster, kWeighted, kHeader };

  // `virtual_host_retry`: the enclosing virtual host's retry policy (may be
  // null), used when the route has none of its own (Envoy: the route's wins).
  static std::optional<RouteAction> build(const envoy::config::route::v3::RouteAction& config, std::string_view path,
                                          config::ErrorList& errors,
                                          std::shared_ptr<const RetryPolicy> virtual_host_retry = nullptr);

  // The upstream cluster for this request. kCluster: the configured name.
  // kWeighted: picked by `random % total`, with weights read from `runtime`
  // when runtime_key_prefix is set. kHeader: the value of the header (a view
  // into `headers`). Empty: no cluster (the header is missing, or all runtime
  // weights are 0); answer clusterNotFoundResponseCode() (Envoy's NC flag).
  std::string_view chooseCluster(const http::HeaderMap& headers, const runtime::Snapshot& runtime,
                                 uint64_t random) const;
  // The same for live traffic, kWeighted picked by where `spread` (a point
  // of the worker's low-discrepancy sequence, Worker::spread()) falls in
  // [0, 2^64) scaled to the total: consecutive requests cover the weights
  // evenly, so a 1% weight change moves 1% of the next hundred requests,
  // not 1% give or take the noise of independent draws (zone drains,
  // docs/ARCHITECTURE.md).
  std::string_view chooseClusterSpread(const http::HeaderMap& headers, const runtime::Snapshot& runtime,
                                       uint64_t spread) const;
  ClusterKind clusterKind() const { return cluster_kind_; }
  const std::vector<WeightedClusterEntry>& weightedClusters() const { return weighted_; }
  uint32_t clusterNotFoundResponseCode() const { return cluster_not_found_code_; }

  const std::optional<PathRewrite>& pathRewrite() const { return path_rewrite_; }
  // host_rewrite_literal: the new :authority; nullopt when not configured.
  std::optional<std::string_view> hostRewrite() const;
  // auto_host_rewrite: the caller sets :authority to the chosen host's hostname/address.
  bool autoHostRewrite() const { return auto_host_rewrite_; }

  // Upstream request timeout; nullopt: disabled (configured as 0). Default 15s.
  std::optional<std::chrono::milliseconds> timeout() const { return timeout_; }
  // nullopt: not configured here (the connection manager's stream idle
  // timeout applies); zero: disabled for this route.
  std::optional<std::chrono::milliseconds> idleTimeout() const { return idle_timeout_; }

  // The retry policy (the route's, else its virtual host's); null: none.
  const RetryPolicy* retryPolicy() const { return retry_policy_.get(); }

  // The request hash for consistent-hash load balancing; nullopt: no policy or no value.
  std::optional<uint64_t> hash(const RequestView& request) const;

  // upgrade_configs for `upgrade_type` (case-insensitive, e.g. "websocket"):
  // nullopt when the route does not mention it (the connection manager decides).
  std::optional<bool> upgradeEnabled(std::string_view upgrade_type) const;

 private:
  RouteAction() = default;

  ClusterKind cluster_kind_ = ClusterKind::kCluster;
  std::string cluster_;  // kCluster: name; kHeader: lowercase header name
  std::vector<WeightedClusterEntry> weighted_;
  // kWeighted: the entry that `draw(total)` (a value below total) falls in.
  template <typename Draw>
  std::string_view pickWeighted(const runtime::Snapshot& runtime, Draw draw) const;
  uint32_t cluster_not_found_code_ = 503;
  std::optional<PathRewrite> path_rewrite_;
  std::optional<std::string> host_rewrite_;
  bool auto_host_rewrite_ = false;
  std::optional<std::chrono::milliseconds> timeout_ = std::chrono::seconds(15);
  std::optional<std::chrono::milliseconds> idle_timeout_;
  std::optional<HashPolicy> hash_policy_;
  std::shared_ptr<const RetryPolicy> retry_policy_;
  std::vector<std::pair<std::string, bool>> upgrades_;  // lowercase type, enabled
};

}  // namespace sluice::router
