// A subscription to a file-based xDS source (Envoy's path_config_source): the
// file is a DiscoveryResponse, read at start() and again each time it is
// replaced by a rename (FileWatcher's rule). Main thread only.
#pragma once

#include <string>

#include "config/file_watcher.h"
#include "config/subscription.h"
#include "envoy/config/core/v3/config_source.pb.h"

namespace sluice::config {

class FileSubscription final : public Subscription {
 public:
  // `type`: the message every resource must be, e.g. "envoy.config.cluster.v3.Cluster".
  // `watcher` and `callbacks` outlive the subscription.
  FileSubscription(FileWatcher& watcher, const envoy::config::core::v3::ConfigSource& source, std::string type,
                   SubscriptionCallbacks& callbacks);

  // Reads the file and delivers it, then watches it. A file that does not
  // exist yet is an error unless `optional` (RDS: the listener warms until it
  // is written).
  bool start(std::string& error) override;
  void setOptional(bool optional) { optional_ = optional; }
  const std::string& path() const { return path_; }

 private:
  // Reads and delivers the file; false (with `error`) when unreadable or rejected.
  bool deliver(std::string& error);

  FileWatcher& watcher_;
  std::string path_;
  std::string watched_directory_;
  std::string type_;
  SubscriptionCallbacks& callbacks_;
  bool optional_ = false;
};

}  // namespace sluice::config
