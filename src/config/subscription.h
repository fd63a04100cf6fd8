// The subscription seam: one interface for a typed stream of config
// resources (Envoy's Config::Subscription). The file implementation
// (path_config_source, file_subscription.h) is behind it today; the gRPC one
// (ADS, issue 13) comes next. Whoever consumes LDS, CDS, EDS or RDS sees
// updates the same way: every resource with its name, and the version the
// update came under. Main thread only.
#pragma once

#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <vector>

namespace sluice::config {

struct DiscoveredResource {
  std::string name;  // Listener/Cluster/RouteConfiguration name, ClusterLoadAssignment cluster_name
  std::shared_ptr<const google::protobuf::Message> message;
};

// A state-of-the-world update: every resource of the subscription's type.
struct DiscoveryUpdate {
  std::string version_info;
  std::vector<DiscoveredResource> resources;
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
};

class Subscription {
 public:
  virtual ~Subscription() = default;
  // Starts delivering updates. A file subscription delivers the first one
  // now, and false (with `error`) means it could not be read or was rejected.
  virtual bool start(std::string& error) = 0;
};

// The name a resource is known by in its discovery type: `name`, or
// `cluster_name` for a ClusterLoadAssignment.
std::string resourceName(const google::protobuf::Message& resource);

// How errors name a resource: `listener 'x'`, `cluster 'x'`, `endpoints 'x'`,
// `route_config 'x'`.
std::string resourceLabel(const google::protobuf::Message& resource);

}  // namespace sluice::config
