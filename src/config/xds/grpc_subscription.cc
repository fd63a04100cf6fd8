#include "config/xds/grpc_subscription.h"

#include "config/discovery_file.h"

namespace sluice::config::xds {

GrpcSubscription::GrpcSubscription(AdsClient& client, std::string type, std::vector<std::string> names,
                                   SubscriptionCallbacks& callbacks)
    : client_(client),
      type_(std::move(type)),
      type_url_("type.googleapis.com/" + type_),
      names_(std::move(names)),
      callbacks_(callbacks) {}

bool GrpcSubscription::start(std::string&) {
  started_ = true;
  client_.subscribe(type_url_, names_, *this);
  return true;
}

void GrpcSubscription::updateResourceInterest(std::vector<std::string> names) {
  names_ = std::move(names);
  if (started_) client_.updateNames(type_url_, names_);
}

bool GrpcSubscription::onResponse(const envoy::service::discovery::v3::DiscoveryResponse& response,
                                  std::string& error) {
  DiscoveryFile decoded;
  ErrorList errors;
  if (!readDiscoveryResponse(response, type_, decoded, errors)) {
    error = "version_info '" + response.version_info() + "' rejected:\n" + errors.toString();
    callbacks_.onConfigUpdateFailed(error);
    return false;
  }
  if (!callbacks_.onConfigUpdate(toDiscoveryUpdate(std::move(decoded)), error)) {
    callbacks_.onConfigUpdateFailed(error);
    return false;
  }
  return true;
}

}  // namespace sluice::config::xds
