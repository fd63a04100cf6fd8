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

void GrpcSubscription::updateResourceNames(std::vector<std::string> names) {
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
  DiscoveryUpdate update;
  update.version_info = decoded.version_info;
  for (auto& r : decoded.resources) {
    std::string name = resourceName(*r);
    update.resources.push_back({std::move(name), std::shared_ptr<const google::protobuf::Message>(std::move(r))});
  }
  if (!callbacks_.onConfigUpdate(update, error)) {
    callbacks_.onConfigUpdateFailed(error);
    return false;
  }
  return true;
}

}  // namespace sluice::config::xds
