#include "config/xds/delta_ads_client.h"

#include <algorithm>

#include "log/logger.h"

namespace sluice::config::xds {
namespace {

constexpr int kInvalidArgument = 3;  // google.rpc.Code, as Envoy's NACKs carry

template <typename Names>
std::string joined(const Names& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

}  // namespace

DeltaAdsClient::DeltaAdsClient(DeltaAdsTransport& transport, envoy::config::core::v3::Node node,
                               bool node_on_first_message_only, stats::Store& store)
    : transport_(transport),
      node_(std::move(node)),
      node_on_first_message_only_(node_on_first_message_only),
      connected_state_(store.gauge("control_plane.connected_state")) {
  connected_state_.set(0);
}

DeltaAdsClient::~DeltaAdsClient() { stop(); }

void DeltaAdsClient::start() {
  if (started_) return;
  started_ = true;
  transport_.start(*this);
}

void DeltaAdsClient::stop() {
  if (!started_) return;
  started_ = false;
  transport_.stop();
  stream_ = 0;
  connected_state_.set(0);
}

const std::map<std::string, std::string>& DeltaAdsClient::versions(const std::string& type_url) const {
  static const std::map<std::string, std::string> kNone;
  const auto it = types_.find(type_url);
  return it == types_.end() ? kNone : it->second.versions;
}

void DeltaAdsClient::subscribe(const std::string& type_url, std::vector<std::string> names, AdsWatcher& watcher) {
  if (!types_.count(type_url)) {
    const auto later = std::find_if(order_.begin(), order_.end(),
                                    [&](const std::string& t) { return typeRank(t) > typeRank(type_url); });
    order_.insert(later, type_url);
  }
  auto& state = types_[type_url];
  state.watcher = &watcher;
  state.wildcard = names.empty();
  state.names = std::set<std::string>(names.begin(), names.end());
  if (stream_ != 0) sendInitial(type_url, state);
}

void DeltaAdsClient::updateNames(const std::string& type_url, std::vector<std::string> names) {
  const auto it = types_.find(type_url);
  if (it == types_.end() || it->second.wildcard) return;
  auto& state = it->second;
  state.names = std::set<std::string>(names.begin(), names.end());
  // A resource no longer wanted is forgotten: subscribed again, it comes whole.
  std::erase_if(state.versions, [&state](const auto& v) { return !state.names.count(v.first); });
  if (stream_ != 0) sendNameChanges(type_url, state);
}

void DeltaAdsClient::onStreamOpen(uint64_t stream, const std::string& peer) {
  if (!started_) return;
  stream_ = stream;
  node_sent_ = false;
  connected_state_.set(1);
  SLUICE_LOG(config, info, "sluice: delta ADS stream {} open to {}", stream, peer);
  for (const auto& type_url : order_) sendInitial(type_url, types_.at(type_url));
}

void DeltaAdsClient::onStreamClosed(uint64_t stream, const std::string& reason) {
  if (!started_ || stream != stream_) return;
  stream_ = 0;
  connected_state_.set(0);
  if (stream == 0) {
    SLUICE_LOG(config, warn, "sluice: delta ADS: {}; keeping the last accepted configuration", reason);
  } else {
    SLUICE_LOG(config, warn, "sluice: delta ADS stream {} closed ({}); keeping the last accepted configuration", stream,
               reason);
  }
  for (const auto& type_url : order_) types_.at(type_url).watcher->onStreamFailure();
}

void DeltaAdsClient::sendInitial(const std::string& type_url, TypeState& state) {
  envoy::service::discovery::v3::DeltaDiscoveryRequest request;
  request.set_type_url(type_url);
  // A wildcard subscription names nothing (Envoy's legacy wildcard, which
  // every control plane understands).
  if (!state.wildcard) {
    for (const auto& n : state.names) request.add_resource_names_subscribe(n);
  }
  for (const auto& [name, version] : state.versions) (*request.mutable_initial_resource_versions())[name] = version;
  state.told = state.names;
  send(std::move(request));
}

void DeltaAdsClient::sendNameChanges(const std::string& type_url, TypeState& state) {
  envoy::service::discovery::v3::DeltaDiscoveryRequest request;
  request.set_type_url(type_url);
  for (const auto& n : state.names) {
    if (!state.told.count(n)) request.add_resource_names_subscribe(n);
  }
  for (const auto& n : state.told) {
    if (!state.names.count(n)) request.add_resource_names_unsubscribe(n);
  }
  if (request.resource_names_subscribe().empty() && request.resource_names_unsubscribe().empty()) return;
  state.told = state.names;
  send(std::move(request));
}

void DeltaAdsClient::onResponse(uint64_t stream, envoy::service::discovery::v3::DeltaDiscoveryResponse response,
                                ReceivedAt received) {
  if (!started_ || stream != stream_) return;
  const std::string& type_url = response.type_url();
  SLUICE_LOG(config, debug,
             "ads: received delta {} system_version_info '{}' nonce '{}' with {} resource(s), {} removed", type_url,
             response.system_version_info(), response.nonce(), response.resources_size(),
             response.removed_resources_size());
  envoy::service::discovery::v3::DeltaDiscoveryRequest reply;
  reply.set_type_url(type_url);
  reply.set_response_nonce(response.nonce());
  const auto it = types_.find(type_url);
  if (it == types_.end()) {
    SLUICE_LOG(config, warn, "sluice: delta ADS response for type '{}', which sluice did not subscribe to: rejected",
               type_url);
    const std::string error = "type_url '" + type_url + "' was not subscribed to";
    send(std::move(reply), &error);
    return;
  }
  auto& state = it->second;
  std::vector<std::string> accepted;
  std::string error;
  const bool ok = state.watcher->onDeltaResponse(response, received, accepted, error);
  std::sort(accepted.begin(), accepted.end());
  for (const auto& r : response.resources()) {
    if (std::binary_search(accepted.begin(), accepted.end(), r.name())) state.versions[r.name()] = r.version();
  }
  for (const auto& name : response.removed_resources()) state.versions.erase(name);
  if (ok) {
    send(std::move(reply));
    return;
  }
  SLUICE_LOG(config, warn, "sluice: delta ADS {} nonce '{}' rejected (NACK), {} of {} resource(s) applied: {}",
             type_url, response.nonce(), accepted.size(), response.resources_size(), error);
  send(std::move(reply), &error);
}

void DeltaAdsClient::send(envoy::service::discovery::v3::DeltaDiscoveryRequest request, const std::string* error) {
  if (!node_on_first_message_only_ || !node_sent_) *request.mutable_node() = node_;
  node_sent_ = true;
  if (error != nullptr) {
    request.mutable_error_detail()->set_code(kInvalidArgument);
    request.mutable_error_detail()->set_message(*error);
  }
  std::string versions;
  for (const auto& [name, version] : request.initial_resource_versions()) {
    versions += (versions.empty() ? "" : ",") + name + "=" + version;
  }
  SLUICE_LOG(config, debug, "ads: sending delta {} nonce '{}' subscribe [{}] unsubscribe [{}] initial [{}]{}{}",
             request.type_url(), request.response_nonce(), joined(request.resource_names_subscribe()),
             joined(request.resource_names_unsubscribe()), versions, error ? " NACK: " : "", error ? *error : "");
  transport_.send(stream_, std::move(request), nullptr);
}

}  // namespace sluice::config::xds
