#include "config/discovery_file.h"

#include "config/any_util.h"
#include "config/input_limits.h"
#include "config/pgv_validator.h"
#include "config/subscription.h"
#include "config/supported_fields.h"
#include "config/yaml_to_proto.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace sluice::config {

DiscoveryUpdate toDiscoveryUpdate(DiscoveryFile&& file) {
  DiscoveryUpdate update;
  update.version_info = std::move(file.version_info);
  update.resources.reserve(file.resources.size());
  for (auto& r : file.resources) {
    std::string name = resourceName(*r);
    update.resources.push_back({std::move(name), std::shared_ptr<const google::protobuf::Message>(std::move(r)), ""});
  }
  return update;
}

bool readDiscoveryFile(const std::string& path, const std::string& type, DiscoveryFile& out, ErrorList& errors) {
  const size_t before = errors.size();
  std::string text;
  if (!readConfigFile(path, text, errors)) return false;
  envoy::service::discovery::v3::DiscoveryResponse response;
  parseYamlInto(text, response, errors, path);
  if (errors.size() != before) return false;
  return readDiscoveryResponse(response, type, out, errors);
}

std::unique_ptr<google::protobuf::Message> readDiscoveryResource(const google::protobuf::Any& any,
                                                                 const std::string& type,
                                                                 const std::string& resource_path, ErrorList& errors) {
  if (typeNameOfUrl(any.type_url()) != type) {
    errors.add(resource_path, "expected a " + type + ", got '" + any.type_url() + "'");
    return nullptr;
  }
  std::string error;
  auto resource = unpackAny(any, &error);
  if (!resource) {
    errors.add(resource_path, error);
    return nullptr;
  }
  // Errors name the resource once it has a name: `cluster 'web'.connect_timeout`.
  const std::string where = resourceName(*resource).empty() ? resource_path : resourceLabel(*resource);
  const size_t before = errors.size();
  ErrorList unsupported;
  checkSupported(*resource, where, unsupported);
  validateRules(*resource, where, errors);
  errors.append(unsupported);
  if (errors.size() != before) return nullptr;
  return resource;
}

bool readDiscoveryResponse(const envoy::service::discovery::v3::DiscoveryResponse& response, const std::string& type,
                           DiscoveryFile& out, ErrorList& errors) {
  const size_t before = errors.size();
  out.version_info = response.version_info();
  out.resources.clear();
  for (int i = 0; i < response.resources_size(); ++i) {
    auto resource =
        readDiscoveryResource(response.resources(i), type, indexPath("resources", static_cast<size_t>(i)), errors);
    if (resource) out.resources.push_back(std::move(resource));
  }
  return errors.size() == before;
}

}  // namespace sluice::config
