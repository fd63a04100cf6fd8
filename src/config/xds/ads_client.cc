#include "config/xds/ads_client.h"

#include <algorithm>

#include "log/logger.h"

namespace sluice::config::xds {
namespace {

// google.rpc.Code INVALID_ARGUMENT, as Envoy's NACKs carry.
constexpr int kInvalidArgument = 3;

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

}  // namespace

int typeRank(const std::string& type_url) {
  static const char* const kOrder[] = {kRuntimeType, kClusterType, kEndpointType, kListenerType, kRouteType};
  for (int i = 0; i < 5; ++i) {
    if (type_url == kOrder[i]) return i;
  }
  return 5;
}

AdsClient::AdsClient(AdsTransport& transport, envoy::config::core::v3::Node node, bool node_on_first_message_only,
                     stats::Store& store)
    : transport_(transport),
      node_(std::move(node)),
      node_on_first_message_only_(node_on_first_message_only),
      connected_state_(store.gauge("control_plane.connected_state")) {
  connected_state_.set(0);
}

AdsClient::~AdsClient() { stop(); }

void AdsClient::start() {
  if (started_) return;
  started_ = true;
  transport_.start(*this);
}

void AdsClient::stop() {
  if (!started_) return;
  started_ = false;
  transport_.stop();
  stream_ = 0;
  connected_state_.set(0);
}

void AdsClient::subscribe(const std::string& type_url, std::vector<std::string> names, AdsWatcher& watcher) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (!types_.count(type_url)) {
    const auto later = std::find_if(order_.begin(), order_.end(),
                                    [&](const std::string& t) { return typeRank(t) > typeRank(type_url); });
    order_.insert(later, type_url);
  }
  auto& state = types_[type_url];
  state.names = std::make_shared<const std::vector<std::string>>(std::move(names));
  state.watcher = &watcher;
  if (stream_ != 0) sendRequest(type_url, state);
}

void AdsClient::updateNames(const std::string& type_url, std::vector<std::string> names) {
  const auto it = types_.find(type_url);
  if (it == types_.end()) return;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  it->second.names = std::make_shared<const std::vector<std::string>>(std::move(names));
  if (stream_ != 0) sendRequest(type_url, it->second);
}

void AdsClient::onStreamOpen(uint64_t stream, const std::string& peer) {
  if (!started_) return;
  stream_ = stream;
  node_sent_ = false;
  connected_state_.set(1);
  SLUICE_LOG(config, info, "sluice: ADS stream {} open to {}", stream, peer);
  // A new stream knows nothing: every subscription again, with the versions
  // accepted so far and no nonce (nonces belong to a stream).
  for (const auto& type_url : order_) {
    auto& state = types_.at(type_url);
    state.nonce.clear();
    sendRequest(type_url, state);
  }
}

void AdsClient::onStreamClosed(uint64_t stream, const std::string& reason) {
  if (!started_ || stream != stream_) return;
  stream_ = 0;
  connected_state_.set(0);
  if (stream == 0) {
    SLUICE_LOG(config, warn, "sluice: ADS: {}; keeping the last accepted configuration", reason);
  } else {
    SLUICE_LOG(config, warn, "sluice: ADS stream {} closed ({}); keeping the last accepted configuration", stream,
               reason);
  }
  for (const auto& type_url : order_) types_.at(type_url).watcher->onStreamFailure();
}

void AdsClient::onResponse(uint64_t stream, envoy::service::discovery::v3::DiscoveryResponse response,
                           ReceivedAt received) {
  if (!started_ || stream != stream_) return;
  const std::string& type_url = response.type_url();
  SLUICE_LOG(config, debug, "ads: received {} version_info '{}' nonce '{}' with {} resource(s)", type_url,
             response.version_info(), response.nonce(), response.resources_size());
  const auto it = types_.find(type_url);
  if (it == types_.end()) {
    // Not subscribed to: NACKed on its own type URL, so the server hears of it.
    SLUICE_LOG(config, warn, "sluice: ADS response for type '{}', which sluice did not subscribe to: rejected",
               type_url);
    TypeState unknown;
    unknown.nonce = response.nonce();
    const std::string error = "type_url '" + type_url + "' was not subscribed to";
    sendRequest(type_url, unknown, &error);
    return;
  }
  auto& state = it->second;
  state.nonce = response.nonce();
  std::string error;
  if (state.watcher->onResponse(response, received, error)) {
    state.version_info = response.version_info();
    sendRequest(type_url, state);
    return;
  }
  SLUICE_LOG(config, warn, "sluice: ADS {} version '{}' rejected (NACK), keeping version '{}': {}", type_url,
             response.version_info(), state.version_info, error);
  sendRequest(type_url, state, &error);
}

void AdsClient::sendRequest(const std::string& type_url, const TypeState& state, const std::string* error) {
  envoy::service::discovery::v3::DiscoveryRequest request;
  request.set_type_url(type_url);
  request.set_version_info(state.version_info);
  request.set_response_nonce(state.nonce);
  if (!node_on_first_message_only_ || !node_sent_) *request.mutable_node() = node_;
  node_sent_ = true;
  if (error != nullptr) {
    request.mutable_error_detail()->set_code(kInvalidArgument);
    request.mutable_error_detail()->set_message(*error);
  }
  SLUICE_LOG(config, debug, "ads: sending {} version_info '{}' nonce '{}' names [{}]{}{}", type_url, state.version_info,
             state.nonce, joined(*state.names), error ? " NACK: " : "", error ? *error : "");
  transport_.send(stream_, std::move(request), state.names);
}

}  // namespace sluice::config::xds
