// Reading a file-based xDS resource file (Envoy's `path_config_source`): a
// DiscoveryResponse in YAML or JSON whose `resources` are typed configs of
// one kind. Each resource is checked against the protoc-gen-validate rules and
// the supported subset, with paths like `resources[2].name`. Main thread only.
#pragma once

#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <vector>

#include "config/config_error.h"
#include "config/subscription.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace sluice::config {

struct DiscoveryFile {
  std::string version_info;
  std::vector<std::unique_ptr<google::protobuf::Message>> resources;
};

// The update a subscription hands its callbacks: each resource with its name.
DiscoveryUpdate toDiscoveryUpdate(DiscoveryFile&& file);

// `type` is the full message name every resource must have, e.g.
// "envoy.config.listener.v3.Listener". False with errors when anything is wrong.
bool readDiscoveryFile(const std::string& path, const std::string& type, DiscoveryFile& out, ErrorList& errors);

// One resource of a response: a `type`, decodable, within the
// protoc-gen-validate rules and the supported subset. Null (with errors
// under `resource_path`, or the resource's name once it has one) otherwise.
std::unique_ptr<google::protobuf::Message> readDiscoveryResource(const google::protobuf::Any& any,
                                                                 const std::string& type,
                                                                 const std::string& resource_path, ErrorList& errors);

// The same checks on a DiscoveryResponse already decoded (a file's, or one
// from an ADS stream): every resource must be a `type`, decodable, within the
// protoc-gen-validate rules and the supported subset. All or nothing.
bool readDiscoveryResponse(const envoy::service::discovery::v3::DiscoveryResponse& response, const std::string& type,
                           DiscoveryFile& out, ErrorList& errors);

}  // namespace sluice::config
