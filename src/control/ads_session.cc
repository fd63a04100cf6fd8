#include "control/ads_session.h"

#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace sluice::control {

std::string_view syncStateName(SyncState state) {
  switch (state) {
    case SyncState::NotSent:
      return "NOT SENT";
    case SyncState::Synced:
      return "SYNCED";
    case SyncState::Stale:
      return "STALE";
    case SyncState::Nacked:
      return "NACKED";
  }
  return "NOT SENT";
}

namespace {

// An assignment with no endpoints, for an EDS name the snapshot lacks: the
// client's cluster stops warming instead of waiting for ever.
std::shared_ptr<const Resource> emptyAssignment(const std::string& name) {
  envoy::config::endpoint::v3::ClusterLoadAssignment assignment;
  assignment.set_cluster_name(name);
  return makeResource(assignment);
}

}  // namespace

void AdsSession::onRequest(const envoy::service::discovery::v3::DiscoveryRequest& request) {
  ++generation_;
  XdsType type;
  if (!typeFromUrl(request.type_url(), type)) {
    ++counters_.unknown_types;
    return;
  }
  TypeState& s = state(type);
  std::set<std::string> names;
  bool wildcard = false;
  for (const auto& name : request.resource_names()) {
    if (name == "*") {
      wildcard = true;
    } else {
      names.insert(name);
    }
  }
  // An empty list is the legacy wildcard only while the stream has named
  // nothing for the type: after names, it unsubscribes from everything (a
  // gRPC client whose route no longer references any cluster sends one).
  if (isWildcardCapable(type) && request.resource_names().empty() && (!s.subscribed || s.wildcard)) wildcard = true;
  const bool names_changed = !s.subscribed || names != s.names || wildcard != s.wildcard;
  s.subscribed = true;
  s.names = std::move(names);
  s.wildcard = wildcard;

  const std::string& nonce = request.response_nonce();
  if (!nonce.empty() && !s.sent_nonce.empty() && nonce != s.sent_nonce) {
    // Stale: it answers a response the client has since had a newer one of.
    // Not an ACK or NACK; its names were kept above and are honoured when the
    // outstanding response is answered.
    ++counters_.stale_nonces;
    return;
  }
  if (!nonce.empty() && nonce == s.sent_nonce && s.awaiting_ack) {
    s.awaiting_ack = false;
    if (request.has_error_detail()) {
      ++counters_.nacks;
      s.nack_error = request.error_detail().message();
      if (s.nack_error.empty())
        s.nack_error = "NACK with no message (code " + std::to_string(request.error_detail().code()) + ")";
      s.nacked_version = s.sent_version;
    } else {
      ++counters_.acks;
      s.acked_version = s.sent_version;
      s.acked_resources = s.sent_resources;
      s.nack_error.clear();
      s.nacked_version.clear();
    }
  } else if (!request.has_error_detail()) {
    // Not the answer to an outstanding response: a first request, or the
    // client asking again (EDS after every CDS update). Always answered.
    s.asked_again = true;
  }
  if (names_changed) s.asked_again = true;
  push(type);
  finishRemovals();
}

void AdsSession::setSnapshot(std::shared_ptr<const Snapshot> snapshot) {
  ++generation_;
  snapshot_ = std::move(snapshot);
  // Make before break: what this snapshot removes — listeners, clusters, and
  // the last endpoints of an assignment — stays in the responses until the
  // rest of it is ACKed.
  for (const XdsType type : kRemovalOrder) {
    TypeState& s = state(type);
    if (s.sent_resources.empty() || s.keep_removed) continue;
    const Response now = build(type, s);
    std::map<std::string, const Resource*> kept;
    for (const auto& r : now.resources) kept[r->name] = r.get();
    for (const auto& [name, resource] : s.sent_resources) {
      const auto it = kept.find(name);
      const bool removed = type == XdsType::Endpoint
                               ? it != kept.end() && it->second->empty_assignment && !resource->empty_assignment
                               : it == kept.end();
      if (removed) {
        s.keep_removed = true;
        break;
      }
    }
  }
  pushAll();
  finishRemovals();
}

AdsSession::Response AdsSession::build(XdsType type, const TypeState& s) const {
  std::map<std::string, std::shared_ptr<const Resource>> chosen;
  const auto& all = snapshot_->of(type);
  if (s.wildcard) {
    chosen = all;
  } else {
    for (const auto& name : s.names) {
      const auto it = all.find(name);
      if (it != all.end()) {
        chosen[name] = it->second;
      } else if (type == XdsType::Endpoint) {
        chosen[name] = emptyAssignment(name);
      }
    }
  }
  if (s.keep_removed) {
    for (const auto& [name, resource] : s.sent_resources) {
      if (type != XdsType::Endpoint) {
        chosen.emplace(name, resource);  // a listener or cluster kept
        continue;
      }
      // An assignment that lost its last endpoint keeps the old ones while
      // traffic moves away (RDS, RTDS); a name no longer asked for goes.
      const auto it = chosen.find(name);
      if (it != chosen.end() && it->second->empty_assignment) it->second = resource;
    }
  }
  Response response;
  for (auto& [name, resource] : chosen) response.resources.push_back(std::move(resource));
  response.version = versionOf(response.resources);
  return response;
}

void AdsSession::push(XdsType type) {
  TypeState& s = state(type);
  if (!snapshot_ || !s.subscribed || s.awaiting_ack) return;  // one un-ACKed response per type
  Response response = build(type, s);
  if (!s.nacked_version.empty() && response.version == s.nacked_version) {
    ++counters_.nack_parked;  // parked until the content changes
    s.asked_again = false;
    return;
  }
  if (!s.asked_again && response.version == s.sent_version) return;
  envoy::service::discovery::v3::DiscoveryResponse out;
  out.set_version_info(response.version);
  out.set_type_url(std::string(typeUrl(type)));
  out.set_nonce(std::to_string(++nonce_));
  s.sent_resources.clear();
  for (const auto& resource : response.resources) {
    *out.add_resources() = resource->any;
    s.sent_resources[resource->name] = resource;
  }
  s.sent_version = response.version;
  s.sent_nonce = out.nonce();
  s.awaiting_ack = true;
  s.asked_again = false;
  ++counters_.pushes;
  counters_.resources_sent += out.resources_size();
  sink_.send(out);
}

void AdsSession::pushAll() {
  for (const XdsType type : kPushOrder) push(type);
}

void AdsSession::finishRemovals() {
  bool any = false;
  for (const XdsType type : kRemovalOrder) any = any || state(type).keep_removed;
  if (!any) return;
  for (const auto& s : types_) {
    if (s.awaiting_ack) return;
  }
  for (const XdsType type : kRemovalOrder) {
    TypeState& s = state(type);
    if (!s.keep_removed) continue;
    s.keep_removed = false;
    push(type);
  }
}

AdsSession::TypeStatus AdsSession::status(XdsType type) const {
  const TypeState& s = state(type);
  TypeStatus out = commonStatus(s);
  out.acked_version = s.acked_version;
  if (snapshot_ && s.subscribed) out.current_version = build(type, s).version;
  if (s.sent_version.empty()) {
    out.state = SyncState::NotSent;
  } else if (!s.nack_error.empty()) {
    out.state = SyncState::Nacked;
  } else if (s.awaiting_ack || s.acked_version != out.current_version) {
    out.state = SyncState::Stale;
  } else {
    out.state = SyncState::Synced;
  }
  return out;
}

std::map<std::string, std::string> AdsSession::ackedVersions(XdsType type) const {
  std::map<std::string, std::string> out;
  for (const auto& [name, resource] : state(type).acked_resources) out[name] = resource->version;
  return out;
}

XdsSession::Resources AdsSession::desiredResources(XdsType type) const {
  const TypeState& s = state(type);
  Resources out;
  if (!snapshot_ || !s.subscribed) return out;
  for (auto& resource : build(type, s).resources) out[resource->name] = std::move(resource);
  return out;
}

}  // namespace sluice::control
