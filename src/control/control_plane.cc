#include "control/control_plane.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/hash.h"
#include "control/translator.h"
#include "log/logger.h"

namespace sluice::control {

namespace {

nlohmann::json toJson(const Registry& registry) {
  nlohmann::json out;
  out["zones"] = registry.zones;
  out["services"] = nlohmann::json::array();
  for (const auto& s : registry.services) {
    nlohmann::json service{{"name", s.name}, {"protocol", protocolName(s.protocol)}};
    service["instances"] = nlohmann::json::array();
    for (const auto& i : s.instances) {
      service["instances"].push_back({{"address", i.address},
                                      {"port", i.port},
                                      {"zone", i.zone},
                                      {"weight", i.weight},
                                      {"health", healthName(i.health)},
                                      {"metadata", i.metadata}});
    }
    out["services"].push_back(std::move(service));
  }
  out["gateways"] = nlohmann::json::array();
  for (const auto& g : registry.gateways) {
    nlohmann::json gateway{{"name", g.name}, {"port", g.port}, {"address", g.address}};
    gateway["virtual_hosts"] = nlohmann::json::array();
    for (const auto& h : g.virtual_hosts) {
      nlohmann::json host{{"name", h.name}, {"domains", h.domains}};
      host["routes"] = nlohmann::json::array();
      for (const auto& r : h.routes) host["routes"].push_back({{"prefix", r.prefix}, {"service", r.service}});
      gateway["virtual_hosts"].push_back(std::move(host));
    }
    out["gateways"].push_back(std::move(gateway));
  }
  out["zone_weights"] = nlohmann::json::object();
  for (const auto& zone : registry.zones) out["zone_weights"][zone] = registry.zoneWeight(zone);
  return out;
}

}  // namespace

std::string registryJson(const Registry& registry) { return toJson(registry).dump(); }

void ControlPlane::start(std::shared_ptr<const Registry> registry, std::string source) {
  status_.source = std::move(source);
  apply(std::move(registry));
}

void ControlPlane::onRegistryUpdate(std::shared_ptr<const Registry> registry) {
  SLUICE_LOG(config, info, "registry {}: update accepted", status_.source);
  status_.last_error.clear();
  if (!pending_) pending_since_ = std::chrono::steady_clock::now();
  pending_ = std::move(registry);
  armDebounce();
}

void ControlPlane::onRegistryRejected(const std::string& error) {
  ++status_.rejected;
  status_.last_error = error;
  status_.rejected_at = std::chrono::system_clock::now();
  SLUICE_LOG(config, warn, "registry {}: update rejected, still serving version {}:\n{}", status_.source,
             status_.version, error);
}

void ControlPlane::armDebounce() {
  const auto deadline = pending_since_ + options_.debounce_max;
  const auto now = std::chrono::steady_clock::now();
  auto wait = std::min<std::chrono::steady_clock::duration>(options_.debounce, deadline - now);
  if (wait < std::chrono::steady_clock::duration::zero()) wait = std::chrono::steady_clock::duration::zero();
  debounce_timer_.expires_after(wait);
  debounce_timer_.async_wait([this](const std::error_code& ec) {
    if (ec || !pending_) return;  // restarted by a later change
    apply(std::move(pending_));
    pending_.reset();
  });
}

void ControlPlane::apply(std::shared_ptr<const Registry> registry) {
  base_ = std::move(registry);
  ++status_.accepted;
  ++applied_;
  status_.accepted_at = std::chrono::system_clock::now();
  rebuild();
}

void ControlPlane::setZoneWeights(std::map<std::string, uint32_t> weights) {
  if (weights == zone_weights_) return;
  zone_weights_ = std::move(weights);
  if (base_) rebuild();
}

void ControlPlane::rebuild() {
  if (zone_weights_.empty()) {
    registry_ = base_;
  } else {
    auto served = std::make_shared<Registry>(*base_);
    for (const auto& [zone, weight] : zone_weights_) served->zone_weights[zone] = weight;
    registry_ = std::move(served);
  }
  status_.version = fmt::format("{:016x}", hash64(registryJson(*registry_)));
  snapshots_.clear();
  grpc_snapshot_.reset();
  for (auto& [id, session] : sessions_) {
    if (session->hasNode()) session->setSnapshot(snapshotFor(session->node()));
  }
}

uint64_t ControlPlane::openSession(ResponseSink& sink) {
  const uint64_t id = next_session_++;
  sessions_.emplace(id, std::make_unique<AdsSession>(sink, counters_));
  return id;
}

uint64_t ControlPlane::openSession(DeltaResponseSink& sink) {
  const uint64_t id = next_session_++;
  sessions_.emplace(id, std::make_unique<DeltaAdsSession>(sink, counters_));
  return id;
}

XdsSession* ControlPlane::sessionFor(uint64_t id, const envoy::config::core::v3::Node& node) {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  XdsSession& session = *it->second;
  if (!session.hasNode()) {
    session.setNode(node);
    SLUICE_LOG(config, info, "ADS stream {} ({}): node '{}' ({}, '{}') cluster '{}' zone '{}' connected", id,
               session.isDelta() ? "delta" : "SotW", node.id(), nodeKindName(nodeKindOf(node)), node.user_agent_name(),
               node.cluster(), node.locality().zone());
    session.setSnapshot(snapshotFor(node));
  }
  return &session;
}

void ControlPlane::onRequest(uint64_t id, const envoy::service::discovery::v3::DiscoveryRequest& request) {
  XdsSession* session = sessionFor(id, request.node());
  if (session != nullptr && !session->isDelta()) static_cast<AdsSession*>(session)->onRequest(request);
}

void ControlPlane::onRequest(uint64_t id, const envoy::service::discovery::v3::DeltaDiscoveryRequest& request) {
  XdsSession* session = sessionFor(id, request.node());
  if (session != nullptr && session->isDelta()) static_cast<DeltaAdsSession*>(session)->onRequest(request);
}

void ControlPlane::closeSession(uint64_t id) {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  SLUICE_LOG(config, info, "ADS stream {}: node '{}' disconnected", id, it->second->node().id());
  sessions_.erase(it);
}

std::shared_ptr<const Snapshot> ControlPlane::snapshotFor(const std::string& node_cluster) {
  auto& slot = snapshots_[node_cluster];
  if (!slot) slot = translate(*registry_, node_cluster);
  return slot;
}

std::shared_ptr<const Snapshot> ControlPlane::grpcClientSnapshot() {
  if (!grpc_snapshot_) grpc_snapshot_ = translateForGrpcClients(*registry_);
  return grpc_snapshot_;
}

std::shared_ptr<const Snapshot> ControlPlane::snapshotFor(const envoy::config::core::v3::Node& node) {
  return nodeKindOf(node) == NodeKind::GrpcClient ? grpcClientSnapshot() : snapshotFor(node.cluster());
}

}  // namespace sluice::control
