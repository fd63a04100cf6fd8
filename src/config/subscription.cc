#include "config/subscription.h"

#include <google/protobuf/util/time_util.h>

namespace sluice::config {

std::string resourceName(const google::protobuf::Message& resource) {
  const auto* descriptor = resource.GetDescriptor();
  const auto* field = descriptor->FindFieldByName("name");
  if (field == nullptr) field = descriptor->FindFieldByName("cluster_name");
  if (field == nullptr || field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) return "";
  return resource.GetReflection()->GetString(resource, field);
}

std::string resourceLabel(const google::protobuf::Message& resource) {
  const std::string& type = resource.GetDescriptor()->full_name();
  const char* kind = type == "envoy.config.listener.v3.Listener"                ? "listener"
                     : type == "envoy.config.cluster.v3.Cluster"                ? "cluster"
                     : type == "envoy.config.endpoint.v3.ClusterLoadAssignment" ? "endpoints"
                     : type == "envoy.config.route.v3.RouteConfiguration"       ? "route_config"
                                                                                : "resource";
  return std::string(kind) + " '" + resourceName(resource) + "'";
}

std::chrono::milliseconds initialFetchTimeout(const envoy::config::core::v3::ConfigSource& source) {
  if (!source.has_initial_fetch_timeout()) return std::chrono::milliseconds(15000);
  return std::chrono::milliseconds(
      google::protobuf::util::TimeUtil::DurationToMilliseconds(source.initial_fetch_timeout()));
}

}  // namespace sluice::config
