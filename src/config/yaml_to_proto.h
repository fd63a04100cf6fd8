// YAML (and JSON, which yaml-cpp reads as YAML) to protobuf, by reflection,
// following the proto3 JSON mapping that Envoy's loader uses: fields by proto
// name or json_name, unknown fields are errors, well-known types in their JSON
// form (durations as "1.5s", wrappers as plain values, Struct as any YAML),
// `Any` as a map with "@type" resolved against the compiled Envoy API.
// Every error names the field path. Main thread only.
#pragma once

#include <google/protobuf/message.h>
#include <yaml-cpp/yaml.h>

#include <string_view>

#include "config/config_error.h"

namespace sluice::config {

// Fills `message` (expected to be empty) from `node`. Errors are appended to
// `errors` with paths rooted at `path`; what could be converted is kept.
void yamlToProto(const YAML::Node& node, google::protobuf::Message& message, std::string_view path, ErrorList& errors);

// Parses `text` as YAML or JSON into `message`, within the config-input
// bounds (config/input_limits.h; an error names `source` and the limit). A
// syntax error is reported with its line and column.
void parseYamlInto(std::string_view text, google::protobuf::Message& message, ErrorList& errors,
                   std::string_view source = "");

}  // namespace sluice::config
