#include "control/snapshot.h"

#include <fmt/format.h>

#include "common/hash.h"
#include "config/proto_hash.h"
#include "config/subscription.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace sluice::control {

namespace {
struct TypeInfo {
  std::string_view url;
  std::string_view short_name;
};
constexpr std::array<TypeInfo, kXdsTypeCount> kTypes = {{
    {"type.googleapis.com/envoy.service.runtime.v3.Runtime", "runtime"},
    {"type.googleapis.com/envoy.config.cluster.v3.Cluster", "cluster"},
    {"type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", "endpoint"},
    {"type.googleapis.com/envoy.config.listener.v3.Listener", "listener"},
    {"type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "route"},
}};
constexpr std::string_view kPrefix = "type.googleapis.com/";
}  // namespace

std::string_view typeUrl(XdsType type) { return kTypes[static_cast<size_t>(type)].url; }
std::string_view typeMessageName(XdsType type) { return typeUrl(type).substr(kPrefix.size()); }
std::string_view typeShortName(XdsType type) { return kTypes[static_cast<size_t>(type)].short_name; }

bool typeFromUrl(std::string_view url, XdsType& out) {
  for (size_t i = 0; i < kXdsTypeCount; ++i) {
    if (kTypes[i].url == url) {
      out = static_cast<XdsType>(i);
      return true;
    }
  }
  return false;
}

bool isWildcardCapable(XdsType type) { return type == XdsType::Cluster || type == XdsType::Listener; }

std::shared_ptr<const Resource> makeResource(const google::protobuf::Message& message) {
  auto resource = std::make_shared<Resource>();
  resource->name = config::resourceName(message);
  resource->version = fmt::format("{:016x}", config::protoHash(message));
  resource->any.PackFrom(message);
  if (const auto* cla = dynamic_cast<const envoy::config::endpoint::v3::ClusterLoadAssignment*>(&message)) {
    resource->empty_assignment = cla->endpoints_size() == 0;
  }
  return resource;
}

std::string versionOf(const std::vector<std::shared_ptr<const Resource>>& resources) {
  std::string text;
  for (const auto& r : resources) {
    text += r->name;
    text += '\0';
    text += r->version;
    text += '\0';
  }
  return fmt::format("{:016x}", hash64(text));
}

}  // namespace sluice::control
