#include "config/file_subscription.h"

#include <sys/stat.h>

#include "config/discovery_file.h"

namespace sluice::config {

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
  return callbacks_.onConfigUpdate(toDiscoveryUpdate(std::move(file)), error);
}

}  // namespace sluice::config
