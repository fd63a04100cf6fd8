#include "config/xds/subscription_factory.h"

#include "config/file_subscription.h"
#include "config/xds/grpc_subscription.h"

namespace sluice::config::xds {

std::unique_ptr<Subscription> makeSubscription(const SubscriptionSources& sources,
                                               const envoy::config::core::v3::ConfigSource& source, std::string type,
                                               std::vector<std::string> names, SubscriptionCallbacks& callbacks,
                                               bool optional_file) {
  if (source.has_ads() && sources.ads != nullptr) {
    return std::make_unique<GrpcSubscription>(*sources.ads, std::move(type), std::move(names), callbacks);
  }
  auto file = std::make_unique<FileSubscription>(sources.watcher, source, std::move(type), callbacks);
  file->setOptional(optional_file);
  return file;
}

}  // namespace sluice::config::xds
