#include "config/file_subscription.h"

#include <sys/stat.h>

#include "config/discovery_file.h"

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

FileSubscription::FileSubscription(FileWatcher& watcher, const envoy::config::core::v3::ConfigSource& source,
                                   std::string type, SubscriptionCallbacks& callbacks)
    : watcher_(watcher),
      path_(source.path_config_source().path()),
      watched_directory_(source.path_config_source().watched_directory().path()),
      type_(std::move(type)),
      callbacks_(callbacks) {}

bool FileSubscription::start(std::string& error) {
  struct stat st {};
  const bool missing = ::stat(path_.c_str(), &st) != 0;
  if (!(optional_ && missing) && !deliver(error)) return false;
  return watcher_.watch(
      path_, watched_directory_,
      [this] {
        std::string failure;
        if (!deliver(failure)) callbacks_.onConfigUpdateFailed(failure);
      },
      error);
}

bool FileSubscription::deliver(std::string& error) {
  DiscoveryFile file;
  ErrorList errors;
  if (!readDiscoveryFile(path_, type_, file, errors)) {
    error = "'" + path_ + "' rejected:\n" + errors.toString();
    return false;
  }
  DiscoveryUpdate update;
  update.version_info = file.version_info;
  for (auto& r : file.resources) {
    std::string name = resourceName(*r);
    update.resources.push_back({std::move(name), std::shared_ptr<const google::protobuf::Message>(std::move(r))});
  }
  return callbacks_.onConfigUpdate(update, error);
}

}  // namespace sluice::config
