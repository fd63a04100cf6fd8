#include "router/route_action.h"

#include <cassert>

// Fields sluice does not implement never reach this file: the supported-subset
// gate (config/supported_fields.cc) rejects them, by path, before any compile.
// The asserts below restate that precondition.

namespace sluice::router {

using config::childPath;
using config::indexPath;

namespace {

std::chrono::milliseconds toMilliseconds(const google::protobuf::Duration& duration) {
  return std::chrono::milliseconds(duration.seconds() * 1000 + duration.nanos() / 1'000'000);
}

// weighted_clusters: names, weights, and Envoy's sum rules.
bool buildWeightedClusters(const envoy::config::route::v3::WeightedCluster& config, std::string_view path,
                           std::vector<WeightedClusterEntry>& out, config::ErrorList& errors) {
  bool ok = true;
  assert(!config.has_header_name());
  uint64_t sum = 0;
  for (int i = 0; i < config.clusters_size(); ++i) {
    const auto& cluster = config.clusters(i);
    const std::string cluster_path = indexPath(childPath(path, "clusters"), i);
    assert(cluster.cluster_header().empty() && cluster.request_headers_to_add_size() == 0 &&
           cluster.request_headers_to_remove_size() == 0 && cluster.response_headers_to_add_size() == 0 &&
           cluster.response_headers_to_remove_size() == 0 && !cluster.has_metadata_match() &&
           cluster.host_rewrite_literal().empty());
    if (cluster.name().empty()) {
      errors.add(childPath(cluster_path, "name"), "must not be empty");
      ok = false;
      continue;
    }
    WeightedClusterEntry entry;
    entry.name = cluster.name();
    entry.weight = cluster.has_weight() ? cluster.weight().value() : 0;
    if (!config.runtime_key_prefix().empty()) entry.runtime_key = config.runtime_key_prefix() + "." + cluster.name();
    sum += entry.weight;
    out.push_back(std::move(entry));
  }
  if (config.clusters_size() == 0) {
    errors.add(childPath(path, "clusters"), "at least one cluster is required");
    return false;
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (ok && config.has_total_weight() && sum != config.total_weight().value()) {
    errors.add(childPath(path, "total_weight"), "the weights add up to " + std::to_string(sum) + ", not " +
                                                    std::to_string(config.total_weight().value()));
    ok = false;
  }
#pragma GCC diagnostic pop
  if (ok && sum == 0) {
    errors.add(childPath(path, "clusters"), "the weights must not add up to 0");
    ok = false;
  }
  if (sum > UINT32_MAX) {
    errors.add(childPath(path, "clusters"), "the weights must add up to at most 4294967295");
    ok = false;
  }
  return ok;
}

}  // namespace

// ---- PathRewrite ----

std::optional<PathRewrite> PathRewrite::build(const std::string& prefix_rewrite,
                                              const envoy::type::matcher::v3::RegexMatchAndSubstitute* regex_rewrite,
                                              std::string_view path, config::ErrorList& errors) {
  if (regex_rewrite == nullptr) {
    if (prefix_rewrite.empty()) return std::nullopt;
    PathRewrite out;
    out.prefix_ = prefix_rewrite;
    return out;
  }
  if (!prefix_rewrite.empty()) {
    errors.add(childPath(path, "regex_rewrite"), "only one of prefix_rewrite and regex_rewrite may be set");
    return std::nullopt;
  }
  auto regex = RegexSubstitution::build(*regex_rewrite, childPath(path, "regex_rewrite"), errors);
  if (!regex) return std::nullopt;
  PathRewrite out;
  out.regex_ = std::move(regex);
  return out;
}

std::string PathRewrite::apply(std::string_view path, size_t matched_length) const {
  if (regex_) {
    const std::string_view bare = pathWithoutQuery(path);
    std::string out = regex_->replaceAll(bare);
    out.append(path.substr(bare.size()));
    return out;
  }
  std::string out = prefix_;
  out.append(path.substr(std::min(matched_length, path.size())));
  return out;
}

// ---- RouteAction ----

std::optional<RouteAction> RouteAction::build(const envoy::config::route::v3::RouteAction& config,
                                              std::string_view path, config::ErrorList& errors,
                                              std::shared_ptr<const RetryPolicy> virtual_host_retry) {
  using Proto = envoy::config::route::v3::RouteAction;
  RouteAction out;
  bool ok = true;

  switch (config.cluster_specifier_case()) {
    case Proto::kCluster:
      out.cluster_kind_ = ClusterKind::kCluster;
      out.cluster_ = config.cluster();
      if (out.cluster_.empty()) {
        errors.add(childPath(path, "cluster"), "must not be empty");
        ok = false;
      }
      break;
    case Proto::kClusterHeader:
      out.cluster_kind_ = ClusterKind::kHeader;
      out.cluster_ = toLower(config.cluster_header());
      if (out.cluster_.empty()) {
        errors.add(childPath(path, "cluster_header"), "must not be empty");
        ok = false;
      }
      break;
    case Proto::kWeightedClusters:
      out.cluster_kind_ = ClusterKind::kWeighted;
      ok = buildWeightedClusters(config.weighted_clusters(), childPath(path, "weighted_clusters"), out.weighted_,
                                 errors) &&
           ok;
      break;
    case Proto::kClusterSpecifierPlugin:
    case Proto::kInlineClusterSpecifierPlugin:
      assert(false && "rejected by the gate");
      [[fallthrough]];
    case Proto::CLUSTER_SPECIFIER_NOT_SET:
      errors.add(std::string(path), "one of cluster, cluster_header or weighted_clusters is required");
      ok = false;
      break;
  }

  switch (config.cluster_not_found_response_code()) {
    case Proto::SERVICE_UNAVAILABLE:
      out.cluster_not_found_code_ = 503;
      break;
    case Proto::NOT_FOUND:
      out.cluster_not_found_code_ = 404;
      break;
    case Proto::INTERNAL_SERVER_ERROR:
      out.cluster_not_found_code_ = 500;
      break;
    default:
      errors.add(childPath(path, "cluster_not_found_response_code"), "unknown response code");
      ok = false;
      break;
  }

  assert(!config.has_path_rewrite_policy());
  const size_t errors_before = errors.size();
  out.path_rewrite_ = PathRewrite::build(config.prefix_rewrite(),
                                         config.has_regex_rewrite() ? &config.regex_rewrite() : nullptr, path, errors);
  ok = ok && errors.size() == errors_before;

  switch (config.host_rewrite_specifier_case()) {
    case Proto::kHostRewriteLiteral:
      out.host_rewrite_ = config.host_rewrite_literal();
      break;
    case Proto::kAutoHostRewrite:
      out.auto_host_rewrite_ = config.auto_host_rewrite().value();
      break;
    case Proto::kHostRewriteHeader:
    case Proto::kHostRewritePathRegex:
      assert(false && "rejected by the gate");
      break;
    case Proto::HOST_REWRITE_SPECIFIER_NOT_SET:
      break;
  }

  if (config.has_timeout()) {
    const auto timeout = toMilliseconds(config.timeout());
    out.timeout_ = timeout.count() == 0 ? std::nullopt : std::optional(timeout);
  }
  if (config.has_idle_timeout()) out.idle_timeout_ = toMilliseconds(config.idle_timeout());

  if (config.has_retry_policy()) {
    out.retry_policy_ = RetryPolicy::build(config.retry_policy(), childPath(path, "retry_policy"), errors);
    ok = ok && out.retry_policy_ != nullptr;
  } else {
    out.retry_policy_ = std::move(virtual_host_retry);
  }

  if (config.hash_policy_size() > 0) {
    const size_t before = errors.size();
    out.hash_policy_ = HashPolicy::build(config.hash_policy(), childPath(path, "hash_policy"), errors);
    ok = ok && errors.size() == before;
  }

  for (int i = 0; i < config.upgrade_configs_size(); ++i) {
    const auto& upgrade = config.upgrade_configs(i);
    const std::string upgrade_path = indexPath(childPath(path, "upgrade_configs"), i);
    std::string type = toLower(upgrade.upgrade_type());
    if (type.empty()) {
      errors.add(childPath(upgrade_path, "upgrade_type"), "must not be empty");
      ok = false;
      continue;
    }
    assert(!upgrade.has_connect_config());
    if (out.upgradeEnabled(type).has_value()) {
      errors.add(childPath(upgrade_path, "upgrade_type"), "duplicate upgrade '" + upgrade.upgrade_type() + "'");
      ok = false;
      continue;
    }
    out.upgrades_.emplace_back(std::move(type), upgrade.has_enabled() ? upgrade.enabled().value() : true);
  }

  if (!ok) return std::nullopt;
  return out;
}

// 64 x 64 -> 128 bits: where a point of [0, 2^64) falls in [0, total).
__extension__ using Wide = unsigned __int128;

template <typename Draw>
std::string_view RouteAction::pickWeighted(const runtime::Snapshot& runtime, Draw draw) const {
  auto weight = [&runtime](const WeightedClusterEntry& entry) -> uint64_t {
    return entry.runtime_key.empty() ? entry.weight : runtime.getInteger(entry.runtime_key, entry.weight);
  };
  uint64_t total = 0;
  for (const auto& entry : weighted_) total += weight(entry);
  if (total == 0) return {};
  const uint64_t selected = draw(total);
  uint64_t end = 0;
  for (const auto& entry : weighted_) {
    end += weight(entry);
    if (selected < end) return entry.name;
  }
  return {};  // unreachable: the snapshot is immutable, so both sums agree
}

std::string_view RouteAction::chooseCluster(const http::HeaderMap& headers, const runtime::Snapshot& runtime,
                                            uint64_t random) const {
  switch (cluster_kind_) {
    case ClusterKind::kCluster:
      return cluster_;
    case ClusterKind::kHeader:
      return headers.get(cluster_).value_or(std::string_view());
    case ClusterKind::kWeighted:
      break;
  }
  return pickWeighted(runtime, [random](uint64_t total) { return random % total; });
}

std::string_view RouteAction::chooseClusterSpread(const http::HeaderMap& headers, const runtime::Snapshot& runtime,
                                                  uint64_t spread) const {
  if (cluster_kind_ != ClusterKind::kWeighted) return chooseCluster(headers, runtime, spread);
  return pickWeighted(
      runtime, [spread](uint64_t total) { return static_cast<uint64_t>((static_cast<Wide>(spread) * total) >> 64); });
}

std::optional<std::string_view> RouteAction::hostRewrite() const {
  if (!host_rewrite_) return std::nullopt;
  return std::string_view(*host_rewrite_);
}

std::optional<uint64_t> RouteAction::hash(const RequestView& request) const {
  if (!hash_policy_) return std::nullopt;
  return hash_policy_->hash(request);
}

std::optional<bool> RouteAction::upgradeEnabled(std::string_view upgrade_type) const {
  for (const auto& [type, enabled] : upgrades_) {
    if (http::equalsIgnoreCase(type, upgrade_type)) return enabled;
  }
  return std::nullopt;
}

}  // namespace sluice::router
