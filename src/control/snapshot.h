// What the control plane sends one kind of node: every xDS resource by type
// and name, each with its own content version. Immutable once built and
// shared (`shared_ptr<const Snapshot>`) by every node that gets the same
// translation, so memory follows distinct snapshots, not connected nodes.
// Any thread may read a built snapshot.
#pragma once

#include <google/protobuf/any.pb.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::control {

// The types served. kPushOrder is make before break: CDS → EDS → LDS → RDS,
// then the runtime layer, so zone weights move onto endpoints only after
// the endpoints are there.
enum class XdsType { Runtime, Cluster, Endpoint, Listener, Route };
inline constexpr size_t kXdsTypeCount = 5;
inline constexpr std::array<XdsType, kXdsTypeCount> kPushOrder = {XdsType::Cluster, XdsType::Endpoint,
                                                                  XdsType::Listener, XdsType::Route, XdsType::Runtime};

std::string_view typeUrl(XdsType type);
// The message's full name, e.g. envoy.config.cluster.v3.Cluster.
std::string_view typeMessageName(XdsType type);
// "runtime", "cluster", ... as the status API prints them.
std::string_view typeShortName(XdsType type);
bool typeFromUrl(std::string_view url, XdsType& out);
// State of the world: a resource missing from a response is deleted (LDS,
// CDS), and an empty first request means every resource (wildcard).
bool isWildcardCapable(XdsType type);

struct Resource {
  std::string name;
  std::string version;  // hex of the content hash: equal content, equal version, on every replica
  google::protobuf::Any any;
  bool empty_assignment = false;  // a ClusterLoadAssignment with no endpoints
};

struct Snapshot {
  std::array<std::map<std::string, std::shared_ptr<const Resource>>, kXdsTypeCount> resources;
  // What translation left out, and why (e.g. an HTTP/2 service on an edge node).
  std::vector<std::string> skipped;

  const std::map<std::string, std::shared_ptr<const Resource>>& of(XdsType type) const {
    return resources[static_cast<size_t>(type)];
  }
  std::map<std::string, std::shared_ptr<const Resource>>& of(XdsType type) {
    return resources[static_cast<size_t>(type)];
  }
};

// A resource ready to send: packed, with its content version.
std::shared_ptr<const Resource> makeResource(const google::protobuf::Message& message);

// The version of a set of resources: a hash over their names and versions,
// so a SotW response's version changes exactly when its content does.
std::string versionOf(const std::vector<std::shared_ptr<const Resource>>& resources);

}  // namespace sluice::control
