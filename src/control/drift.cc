#include "control/drift.h"

#include <algorithm>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "common/hash.h"
#include "control/time_text.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "log/logger.h"
#include "network/asio_util.h"

namespace sluice::control {

using nlohmann::json;

namespace {
// The hash cache's bound between full passes (each entry two short strings).
constexpr size_t kMaxCachedHashes = 10000;
}  // namespace

std::string effectiveEndpointsHash(const Resource& resource) {
  envoy::config::endpoint::v3::ClusterLoadAssignment assignment;
  if (!resource.any.UnpackTo(&assignment)) return "";
  std::vector<std::string> lines;
  for (const auto& locality : assignment.endpoints()) {
    const auto& l = locality.locality();
    const std::string where = fmt::format("{}/{}/{} p{} w{}", l.region(), l.zone(), l.sub_zone(), locality.priority(),
                                          locality.load_balancing_weight().value());
    for (const auto& endpoint : locality.lb_endpoints()) {
      const auto& socket = endpoint.endpoint().address().socket_address();
      lines.push_back(fmt::format("{} {}:{} {} {}", where, socket.address(), socket.port_value(),
                                  static_cast<int>(endpoint.health_status()),
                                  endpoint.load_balancing_weight().value()));
    }
    if (locality.lb_endpoints().empty()) lines.push_back(where);
  }
  std::sort(lines.begin(), lines.end());
  std::string all;
  for (const auto& line : lines) all += line + "\n";
  return fmt::format("{:016x}", hash64(all));
}

DriftDetector::DriftDetector(asio::io_context& io, ControlPlane& control_plane, std::chrono::milliseconds threshold)
    : control_plane_(control_plane), threshold_(threshold), timer_(io) {}

void DriftDetector::start() { arm(); }

void DriftDetector::arm() {
  const auto every = std::clamp<std::chrono::milliseconds>(threshold_ / 4, std::chrono::milliseconds(50),
                                                           std::chrono::milliseconds(1000));
  timer_.expires_after(every);
  timer_.async_wait([this](const std::error_code& ec) {
    if (ec) return;
    check();
    arm();
  });
}

std::vector<ClusterDrift> compareEndpoints(
    const XdsSession& session, const std::function<std::string(const std::shared_ptr<const Resource>&)>& hash) {
  const auto acked = session.ackedResources(XdsType::Endpoint);
  const auto acked_versions = session.ackedVersions(XdsType::Endpoint);
  std::vector<ClusterDrift> out;
  for (const auto& [name, resource] : session.desiredResources(XdsType::Endpoint)) {
    ClusterDrift c;
    c.name = name;
    c.current_version = resource->version;
    c.current_endpoints = hash(resource);
    if (const auto v = acked_versions.find(name); v != acked_versions.end()) c.acked_version = v->second;
    if (const auto a = acked.find(name); a != acked.end()) c.acked_endpoints = hash(a->second);
    // In sync: the same assignment, or one that makes the proxy serve the
    // same endpoints. A version with no known content (a delta client's
    // initial versions) counts only when it is the current one.
    c.behind =
        c.acked_version != c.current_version && (c.acked_endpoints.empty() || c.acked_endpoints != c.current_endpoints);
    out.push_back(std::move(c));
  }
  return out;
}

std::string DriftDetector::hashUncached(const std::shared_ptr<const Resource>& resource) {
  return resource ? effectiveEndpointsHash(*resource) : "";
}

std::string DriftDetector::hashOf(const std::shared_ptr<const Resource>& resource) {
  if (!resource) return "";
  auto it = hashes_.find(resource->version);
  if (it == hashes_.end()) it = hashes_.emplace(resource->version, effectiveEndpointsHash(*resource)).first;
  hashes_seen_.insert(*it);
  return it->second;
}

void DriftDetector::check() {
  const auto now = std::chrono::steady_clock::now();
  std::map<uint64_t, NodeDrift> next;
  hashes_seen_.clear();
  const auto hash = [this](const std::shared_ptr<const Resource>& r) { return hashOf(r); };
  bool compared_all = true;
  for (const auto& [id, session] : control_plane_.sessions()) {
    if (!session->hasNode()) continue;
    const auto before = nodes_.find(id);
    NodeDrift drift;
    if (before != nodes_.end() && before->second.generation == session->generation()) {
      drift = before->second;  // nothing changed in the session: the same comparison
      compared_all = false;
    } else {
      drift.generation = session->generation();
      for (const auto& c : compareEndpoints(*session, hash)) {
        if (c.behind) drift.clusters_behind.push_back(c.name);
      }
      const bool was_behind = before != nodes_.end() && !before->second.clusters_behind.empty();
      if (!drift.clusters_behind.empty() && was_behind) {
        drift.behind_since = before->second.behind_since;
        drift.behind_since_steady = before->second.behind_since_steady;
        drift.reported = before->second.reported;
      } else if (!drift.clusters_behind.empty()) {
        drift.behind_since = std::chrono::system_clock::now();
        drift.behind_since_steady = now;
      } else if (before != nodes_.end() && before->second.reported) {
        SLUICE_LOG(config, info, "drift: node '{}' (stream {}) is in sync again", session->node().id(), id);
      }
    }
    if (!drift.clusters_behind.empty() && !drift.reported && now - drift.behind_since_steady >= threshold_) {
      drift.reported = true;
      ++events_;
      std::string names;
      for (const auto& name : drift.clusters_behind) names += (names.empty() ? "" : ", ") + name;
      SLUICE_LOG(config, warn,
                 "drift: node '{}' (stream {}) has served other endpoints than its snapshot's for {} ms: {}",
                 session->node().id(), id,
                 std::chrono::duration_cast<std::chrono::milliseconds>(now - drift.behind_since_steady).count(), names);
    }
    next.emplace(id, std::move(drift));
  }
  nodes_ = std::move(next);
  // Only the versions in use stay cached. A pass that skipped sessions has
  // not seen them all: it keeps everything, up to a bound.
  if (compared_all) {
    hashes_.swap(hashes_seen_);
  } else if (hashes_.size() > kMaxCachedHashes) {
    hashes_.clear();
  }
}

json DriftDetector::json(uint64_t session) const {
  nlohmann::json out{{"state", "in_sync"},
                     {"behind_since", ""},
                     {"clusters_behind", nlohmann::json::array()},
                     {"threshold_ms", threshold_.count()}};
  const auto it = nodes_.find(session);
  const auto s = control_plane_.sessions().find(session);
  if (it == nodes_.end() || s == control_plane_.sessions().end()) return out;  // not checked yet
  const NodeDrift& d = it->second;
  if (d.reported) {
    out["state"] = "behind";
    out["behind_since"] = timeText(d.behind_since);
    out["clusters_behind"] = d.clusters_behind;
  }
  // The details, compared again (as of now: they may be ahead of the last pass).
  nlohmann::json clusters = nlohmann::json::array();
  for (const auto& c : compareEndpoints(*s->second, hashUncached)) {
    clusters.push_back({{"name", c.name},
                        {"acked_version", c.acked_version},
                        {"acked_endpoints_hash", c.acked_endpoints},
                        {"current_version", c.current_version},
                        {"current_endpoints_hash", c.current_endpoints},
                        {"in_sync", !c.behind}});
  }
  out["clusters"] = std::move(clusters);
  return out;
}

size_t DriftDetector::drifted() const {
  return static_cast<size_t>(
      std::count_if(nodes_.begin(), nodes_.end(), [](const auto& n) { return n.second.reported; }));
}

WatchChecker::WatchChecker(asio::io_context& io, RegistrySource& source, std::chrono::milliseconds interval)
    : io_(io), source_(source) {
  status_.interval = interval;
}

void WatchChecker::start() {
  if (status_.interval.count() > 0) asio::co_spawn(io_, run(), asio::detached);
}

asio::awaitable<void> WatchChecker::run() {
  using Outcome = WatchCheckResult::Outcome;
  const auto grace = std::min(status_.interval, std::chrono::milliseconds(1000));
  for (;;) {
    asio::steady_timer timer(io_, status_.interval);
    co_await timer.async_wait(network::kNoThrow);
    const WatchCheckResult result = co_await source_.checkWatch(grace);
    ++status_.checks;
    status_.last_check_at = std::chrono::system_clock::now();
    switch (result.outcome) {
      case Outcome::InSync:
        status_.last_result = "in_sync";
        break;
      case Outcome::Mismatch:
        status_.last_result = "mismatch";
        ++status_.mismatches;
        status_.last_mismatch = result.detail;
        status_.last_mismatch_at = status_.last_check_at;
        SLUICE_LOG(config, warn, "registry {}: watch check: {}; applied the full read", source_.describe(),
                   result.detail);
        break;
      case Outcome::Busy:
        status_.last_result = "busy";
        ++status_.busy;
        break;
      case Outcome::Failed:
        status_.last_result = "failed";
        ++status_.errors;
        status_.last_error = result.detail;
        SLUICE_LOG(config, debug, "registry {}: watch check could not read the store: {}", source_.describe(),
                   result.detail);
        break;
    }
  }
}

json WatchChecker::json() const {
  return {{"interval_ms", status_.interval.count()},
          {"checks", status_.checks},
          {"mismatches", status_.mismatches},
          {"busy", status_.busy},
          {"errors", status_.errors},
          {"last_result", status_.last_result},
          {"last_check_at", timeText(status_.last_check_at)},
          {"last_mismatch", status_.last_mismatch},
          {"last_mismatch_at", timeText(status_.last_mismatch_at)},
          {"last_error", status_.last_error}};
}

}  // namespace sluice::control
