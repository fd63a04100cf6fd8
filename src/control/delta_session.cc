#include "control/delta_session.h"

#include <fmt/format.h>

#include "common/hash.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace sluice::control {

namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;

// Removals go last, and in this order: nothing still routes to what goes.
constexpr std::array<XdsType, kXdsTypeCount> kDeltaRemovalOrder = {XdsType::Listener, XdsType::Route, XdsType::Endpoint,
                                                                   XdsType::Cluster, XdsType::Runtime};

std::shared_ptr<const Resource> emptyAssignment(const std::string& name) {
  envoy::config::endpoint::v3::ClusterLoadAssignment assignment;
  assignment.set_cluster_name(name);
  return makeResource(assignment);
}

// The same hash as versionOf(), over (name, version) pairs in name order, so a
// delta client holding what a SotW client got shows the same version.
template <typename Map, typename VersionOf>
std::string versionOfMap(const Map& map, VersionOf version_of) {
  std::string text;
  for (const auto& [name, value] : map) {
    text += name;
    text += '\0';
    text += version_of(value);
    text += '\0';
  }
  return fmt::format("{:016x}", hash64(text));
}

}  // namespace

void DeltaAdsSession::onRequest(const DeltaDiscoveryRequest& request) {
  ++generation_;
  XdsType type;
  if (!typeFromUrl(request.type_url(), type)) {
    ++counters_.unknown_types;
    return;
  }
  TypeState& s = state(type);
  const bool first = !s.subscribed;
  s.subscribed = true;
  for (const auto& name : request.resource_names_subscribe()) {
    if (name == "*") {
      s.wildcard = true;
    } else if (s.names.insert(name).second) {
      // A new subscription gets the resource even when it was held before
      // (a re-added cluster must not stay empty).
      s.known.erase(name);
      s.nacked.erase(name);
    }
  }
  if (first && isWildcardCapable(type) && request.resource_names_subscribe().empty()) s.wildcard = true;
  for (const auto& name : request.resource_names_unsubscribe()) {
    if (name == "*") {
      s.wildcard = false;
      continue;
    }
    s.names.erase(name);
    if (!s.wildcard) {
      s.known.erase(name);  // the client dropped it; nothing to remove
      s.pending.erase(name);
      s.nacked.erase(name);
    }
  }
  if (!s.wildcard) {
    // Dropping the wildcard drops what only it brought.
    for (auto it = s.known.begin(); it != s.known.end();) {
      it = s.names.count(it->first) ? std::next(it) : s.known.erase(it);
    }
  }
  if (first) {
    for (const auto& [name, version] : request.initial_resource_versions())
      s.known[name] = Held{version, false, nullptr};
    s.answer_empty = s.known.empty();
  }

  const std::string& nonce = request.response_nonce();
  if (!nonce.empty()) {
    if (s.awaiting_ack && nonce == s.sent_nonce) {
      s.awaiting_ack = false;
      if (request.has_error_detail()) {
        ++counters_.nacks;
        s.nack_error = request.error_detail().message();
        if (s.nack_error.empty())
          s.nack_error = "NACK with no message (code " + std::to_string(request.error_detail().code()) + ")";
        s.nacked_version = s.sent_version;
        for (const auto& [name, held] : s.pending) {
          if (!held.version.empty()) s.nacked[name] = held.version;
        }
      } else {
        ++counters_.acks;
        for (const auto& [name, held] : s.pending) {
          s.nacked.erase(name);
          if (held.version.empty()) {
            s.known.erase(name);
          } else {
            s.known[name] = held;
          }
        }
        s.nack_error.clear();
        s.nacked_version.clear();
      }
      s.pending.clear();
    } else {
      // Answers a response superseded since (or one this stream never sent):
      // neither ACK nor NACK; the subscription changes above stand.
      ++counters_.stale_nonces;
    }
  }
  pushAll();
}

void DeltaAdsSession::setSnapshot(std::shared_ptr<const Snapshot> snapshot) {
  ++generation_;
  snapshot_ = std::move(snapshot);
  pushAll();
}

DeltaAdsSession::Resources DeltaAdsSession::desired(XdsType type, const TypeState& s) const {
  Resources out;
  if (!snapshot_) return out;
  const auto& all = snapshot_->of(type);
  if (s.wildcard) out = all;
  for (const auto& name : s.names) {
    const auto it = all.find(name);
    if (it != all.end()) {
      out.emplace(name, it->second);
    } else if (type == XdsType::Endpoint) {
      out.emplace(name, emptyAssignment(name));  // the cluster stops warming
    }
  }
  return out;
}

bool DeltaAdsSession::push(XdsType type, bool removals) {
  TypeState& s = state(type);
  if (!snapshot_ || !s.subscribed || s.awaiting_ack) return false;  // one un-ACKed response per type
  const Resources want = desired(type, s);
  DeltaDiscoveryResponse out;
  std::map<std::string, Held> pending;
  for (const auto& [name, resource] : want) {
    const auto known = s.known.find(name);
    if (known != s.known.end() && known->second.version == resource->version) continue;
    // An assignment losing its last endpoints is a removal: it waits until
    // traffic has moved away (RDS, RTDS).
    const bool emptied = type == XdsType::Endpoint && resource->empty_assignment && known != s.known.end() &&
                         !known->second.empty_assignment;
    if (emptied && !removals) continue;
    const auto nacked = s.nacked.find(name);
    if (nacked != s.nacked.end() && nacked->second == resource->version) {
      ++counters_.nack_parked;  // parked until the content changes
      continue;
    }
    auto* r = out.add_resources();
    r->set_name(name);
    r->set_version(resource->version);
    *r->mutable_resource() = resource->any;
    pending[name] = Held{resource->version, resource->empty_assignment, resource};
  }
  if (removals) {
    for (const auto& [name, held] : s.known) {
      if (want.count(name)) continue;
      out.add_removed_resources(name);
      pending[name] = Held{};
    }
  }
  if (pending.empty() && !s.answer_empty) return false;
  s.answer_empty = false;
  out.set_type_url(std::string(typeUrl(type)));
  out.set_system_version_info(versionOfMap(want, [](const auto& r) { return r->version; }));
  out.set_nonce(std::to_string(++nonce_));
  std::map<std::string, Held> after = s.known;
  for (const auto& [name, held] : pending) {
    if (held.version.empty()) {
      after.erase(name);
    } else {
      after[name] = held;
    }
  }
  s.sent_version = versionOfMap(after, [](const Held& h) { return h.version; });
  s.pending = std::move(pending);
  s.sent_nonce = out.nonce();
  s.awaiting_ack = true;
  s.sent_any = true;
  ++counters_.pushes;
  counters_.resources_sent += out.resources_size();
  counters_.removals_sent += out.removed_resources_size();
  sink_.send(out);
  return true;
}

bool DeltaAdsSession::anyAwaiting() const {
  for (const auto& s : types_) {
    if (s.awaiting_ack) return true;
  }
  return false;
}

void DeltaAdsSession::pushAll() {
  for (const XdsType type : kPushOrder) push(type, false);
  if (anyAwaiting()) return;  // removals wait for everything else to be ACKed
  for (const XdsType type : kDeltaRemovalOrder) push(type, true);
}

TypeStatus DeltaAdsSession::status(XdsType type) const {
  const TypeState& s = state(type);
  TypeStatus out = commonStatus(s);
  out.acked_version = versionOfMap(s.known, [](const Held& h) { return h.version; });
  if (s.subscribed) out.current_version = versionOfMap(desired(type, s), [](const auto& r) { return r->version; });
  if (!s.nack_error.empty()) {
    out.state = SyncState::Nacked;
  } else if (s.subscribed && !s.awaiting_ack && out.acked_version == out.current_version) {
    out.state = SyncState::Synced;  // a reconnect that needed nothing is synced too
  } else if (!s.sent_any) {
    out.state = SyncState::NotSent;
  } else {
    out.state = SyncState::Stale;
  }
  return out;
}

std::map<std::string, std::string> DeltaAdsSession::clientVersions(XdsType type) const {
  std::map<std::string, std::string> out;
  for (const auto& [name, held] : state(type).known) out[name] = held.version;
  return out;
}

XdsSession::Resources DeltaAdsSession::ackedResources(XdsType type) const {
  Resources out;
  for (const auto& [name, held] : state(type).known) out[name] = held.resource;
  return out;
}

}  // namespace sluice::control
