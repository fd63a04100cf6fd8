// The subscription seam: one interface for a typed stream of config
// resources (Envoy's Config::Subscription). Behind it: a file
// (path_config_source, file_subscription.h) or one type URL of the ADS
// stream (xds/grpc_subscription.h); xds/subscription_factory.h picks. Whoever
// consumes LDS, CDS, EDS or RDS sees updates the same way: every resource
// with its name, and the version the update came under. Main thread only.
#pragma once

#include <google/protobuf/any.pb.h>
#include <google/protobuf/message.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "envoy/config/core/v3/config_source.pb.h"

namespace sluice::config {

struct DiscoveredResource {
  std::string name;  // Listener/Cluster/RouteConfiguration name, ClusterLoadAssignment cluster_name
  std::shared_ptr<const google::protobuf::Message> message;
  std::string version;  // delta: the resource's own version
};

// A state-of-the-world update holds every resource of the subscription's
// type. A delta update (`delta`) holds only the resources added or changed,
// and the names the server removed; `rejected` says which resources of the
// response were left out and why (the response is NACKed, the rest applied).
struct DiscoveryUpdate {
  std::string version_info;  // delta: system_version_info
  std::vector<DiscoveredResource> resources;
  bool delta = false;
  std::vector<std::string> removed;
  std::string rejected;
  // gRPC: when the response was read off the stream (its propagation to the
  // workers is measured from here); unset for a file.
  std::chrono::steady_clock::time_point received{};
};

class SubscriptionCallbacks {
 public:
  virtual ~SubscriptionCallbacks() = default;
  // A read and validated update. False (with `error`) rejects it: the
  // previous config stays (xDS will answer with a NACK carrying `error`).
  virtual bool onConfigUpdate(const DiscoveryUpdate& update, std::string& error) = 0;
  // An update that could not be read or validated; its errors name the
  // resource where one could be named (`cluster 'web'.connect_timeout: ...`).
  virtual void onConfigUpdateFailed(const std::string& error) = 0;
  // The source could not be reached (an ADS stream failed or could not be
  // opened); the previous config stays. Envoy's update_failure.
  virtual void onConnectionFailure() {}
  // Over gRPC: the resources of a rejected response as they came, with the
  // error (for /config_dump's error_state); before onConfigUpdateFailed, or
  // alone when a delta response was applied without them.
  virtual void onResourcesRejected(const std::vector<google::protobuf::Any>& /*resources*/,
                                   const std::string& /*error*/) {}
};

// Callbacks made of functions (`connection_failed` and `rejected` may be empty).
class FunctionCallbacks final : public SubscriptionCallbacks {
 public:
  using Update = std::function<bool(const DiscoveryUpdate&, std::string&)>;
  using Failed = std::function<void(const std::string&)>;
  using Rejected = std::function<void(const std::vector<google::protobuf::Any>&, const std::string&)>;
  FunctionCallbacks(Update update, Failed failed, std::function<void()> connection_failed = {}, Rejected rejected = {})
      : update_(std::move(update)),
        failed_(std::move(failed)),
        connection_failed_(std::move(connection_failed)),
        rejected_(std::move(rejected)) {}
  bool onConfigUpdate(const DiscoveryUpdate& update, std::string& error) override { return update_(update, error); }
  void onConfigUpdateFailed(const std::string& error) override { failed_(error); }
  void onConnectionFailure() override {
    if (connection_failed_) connection_failed_();
  }
  void onResourcesRejected(const std::vector<google::protobuf::Any>& resources, const std::string& error) override {
    if (rejected_) rejected_(resources, error);
  }

 private:
  Update update_;
  Failed failed_;
  std::function<void()> connection_failed_;
  Rejected rejected_;
};

class Subscription {
 public:
  virtual ~Subscription() = default;
  // Starts delivering updates. A file subscription delivers the first one
  // now, and false (with `error`) means it could not be read or was rejected.
  virtual bool start(std::string& error) = 0;
  // The resource names wanted now (EDS after a CDS update, RDS as listeners
  // come and go). Over ADS they are requested at once, even when unchanged;
  // a file delivers all its resources whatever the names.
  virtual void updateResourceInterest(std::vector<std::string> names) { (void)names; }
};

// The name a resource is known by in its discovery type: `name`, or
// `cluster_name` for a ClusterLoadAssignment.
std::string resourceName(const google::protobuf::Message& resource);

// How errors name a resource: `listener 'x'`, `cluster 'x'`, `endpoints 'x'`,
// `route_config 'x'`.
std::string resourceLabel(const google::protobuf::Message& resource);

// How long a subscription of `source` waits for its first update before its
// resources stop warming: `initial_fetch_timeout`, Envoy's 15 s by default;
// 0 waits for ever.
std::chrono::milliseconds initialFetchTimeout(const envoy::config::core::v3::ConfigSource& source);

}  // namespace sluice::config
