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
  if (source.has_api_config_source() && sources.api) {
    AdsMux* mux = sources.api(source.api_config_source(), "type.googleapis.com/" + type);
    return std::make_unique<GrpcSubscription>(*mux, std::move(type), std::move(names), callbacks);
  }
  auto file = std::make_unique<FileSubscription>(sources.watcher, source, std::move(type), callbacks);
  file->setOptional(optional_file);
  return file;
}

std::string sourceKey(const envoy::config::core::v3::ConfigSource& source) {
  if (source.has_ads()) return "";
  if (source.has_api_config_source()) {
    std::string bytes;
    source.api_config_source().SerializeToString(&bytes);  // deterministic enough: same bootstrap, same bytes
    return "api:" + bytes;
  }
  return "file:" + source.path_config_source().path();
}

std::string serviceMethod(const std::string& type_url, bool delta) {
  struct Service {
    const char* type_url;
    const char* service;
    const char* stream;
    const char* delta;
  };
  static const Service kServices[] = {
      {kClusterType, "envoy.service.cluster.v3.ClusterDiscoveryService", "StreamClusters", "DeltaClusters"},
      {kEndpointType, "envoy.service.endpoint.v3.EndpointDiscoveryService", "StreamEndpoints", "DeltaEndpoints"},
      {kListenerType, "envoy.service.listener.v3.ListenerDiscoveryService", "StreamListeners", "DeltaListeners"},
      {kRouteType, "envoy.service.route.v3.RouteDiscoveryService", "StreamRoutes", "DeltaRoutes"},
      {kRuntimeType, "envoy.service.runtime.v3.RuntimeDiscoveryService", "StreamRuntime", "DeltaRuntime"},
  };
  for (const auto& s : kServices) {
    if (type_url == s.type_url) return std::string("/") + s.service + "/" + (delta ? s.delta : s.stream);
  }
  return "";
}

}  // namespace sluice::config::xds
