#include "config/xds/grpc_subscription.h"

#include "config/discovery_file.h"

namespace sluice::config::xds {

GrpcSubscription::GrpcSubscription(AdsMux& client, std::string type, std::vector<std::string> names,
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

bool GrpcSubscription::onResponse(const envoy::service::discovery::v3::DiscoveryResponse& response, ReceivedAt received,
                                  std::string& error) {
  const auto rejected = [&] {
    callbacks_.onResourcesRejected({response.resources().begin(), response.resources().end()}, error);
    callbacks_.onConfigUpdateFailed(error);
    return false;
  };
  // The checks of readDiscoveryResponse, resource by resource, skipped for
  // the resources accepted before byte for byte.
  DiscoveryUpdate update;
  update.received = received;
  update.version_info = response.version_info();
  update.resources.reserve(static_cast<size_t>(response.resources_size()));
  std::unordered_map<std::string, DiscoveredResource> reused, fresh;
  ErrorList errors;
  for (int i = 0; i < response.resources_size(); ++i) {
    const auto& any = response.resources(i);
    if (any.type_url() == type_url_) {
      if (auto node = accepted_.extract(any.value())) {
        update.resources.push_back(node.mapped());
        reused.insert(std::move(node));
        continue;
      }
    }
    auto decoded = readDiscoveryResource(any, type_, indexPath("resources", static_cast<size_t>(i)), errors);
    if (!decoded) continue;
    std::string name = resourceName(*decoded);
    DiscoveredResource resource{std::move(name), std::shared_ptr<const google::protobuf::Message>(std::move(decoded)),
                                ""};
    fresh.emplace(any.value(), resource);
    update.resources.push_back(std::move(resource));
  }
  // Rejected: what was taken out of the cache goes back (the previous
  // response is still the accepted one), and nothing of this one goes in.
  if (!errors.empty()) {
    accepted_.merge(reused);
    error = "version_info '" + response.version_info() + "' rejected:\n" + errors.toString();
    return rejected();
  }
  if (!callbacks_.onConfigUpdate(update, error)) {
    accepted_.merge(reused);
    return rejected();
  }
  accepted_ = std::move(reused);
  accepted_.merge(fresh);
  return true;
}

bool GrpcSubscription::onDeltaResponse(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response,
                                       ReceivedAt received, std::vector<std::string>& accepted, std::string& error) {
  DiscoveryUpdate update;
  update.received = received;
  update.delta = true;
  update.version_info = response.system_version_info();
  ErrorList errors;
  std::vector<google::protobuf::Any> bad;  // the resources left out
  for (int i = 0; i < response.resources_size(); ++i) {
    const auto& r = response.resources(i);
    const std::string path = indexPath("resources", static_cast<size_t>(i));
    if (!r.has_resource()) {
      // A TTL heartbeat has no body; sluice does not take TTLs.
      errors.add(path, "resource '" + r.name() + "' has no body (resource TTLs are not supported)");
      continue;
    }
    auto decoded = readDiscoveryResource(r.resource(), type_, path + ".resource", errors);
    if (!decoded) {
      bad.push_back(r.resource());
      continue;
    }
    std::string name = resourceName(*decoded);
    if (!r.name().empty() && r.name() != name) {
      errors.add(path + ".name", "'" + r.name() + "' names a resource called '" + name + "'");
      bad.push_back(r.resource());
      continue;
    }
    update.resources.push_back(
        {std::move(name), std::shared_ptr<const google::protobuf::Message>(std::move(decoded)), r.version()});
  }
  update.removed.assign(response.removed_resources().begin(), response.removed_resources().end());
  if (!errors.empty()) {
    update.rejected =
        "system_version_info '" + response.system_version_info() + "': resources rejected:\n" + errors.toString();
  }
  if (update.resources.empty() && update.removed.empty()) {
    if (update.rejected.empty()) return true;  // nothing in it
    error = update.rejected;
    callbacks_.onResourcesRejected(bad, error);
    callbacks_.onConfigUpdateFailed(error);
    return false;
  }
  if (!callbacks_.onConfigUpdate(update, error)) {
    if (!update.rejected.empty()) error = update.rejected + "\n" + error;
    for (const auto& r : response.resources()) {
      if (r.has_resource()) bad.push_back(r.resource());  // the whole response was refused
    }
    callbacks_.onResourcesRejected(bad, error);
    callbacks_.onConfigUpdateFailed(error);
    return false;
  }
  for (const auto& r : update.resources) accepted.push_back(r.name);
  if (update.rejected.empty()) return true;
  error = update.rejected;
  callbacks_.onResourcesRejected(bad, error);
  return false;
}

}  // namespace sluice::config::xds
