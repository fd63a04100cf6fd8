#include "config/bootstrap_loader.h"

#include <google/protobuf/text_format.h>

#include "config/input_limits.h"
#include "config/pgv_validator.h"
#include "config/semantic_validator.h"
#include "config/supported_fields.h"
#include "config/yaml_to_proto.h"

namespace sluice::config {
namespace {

bool endsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool readBootstrap(const BootstrapSource& source, envoy::config::bootstrap::v3::Bootstrap& out, ErrorList& errors) {
  const size_t before = errors.size();
  if (source.config_path.empty() && source.config_yaml.empty()) {
    errors.add("", "no configuration: give -c FILE or --config-yaml STRING");
    return false;
  }
  if (!source.config_path.empty()) {
    const std::string& path = source.config_path;
    std::string text;
    if (!readConfigFile(path, text, errors)) return false;
    if (endsWith(path, ".yaml") || endsWith(path, ".yml") || endsWith(path, ".json")) {
      parseYamlInto(text, out, errors, path);
    } else if (endsWith(path, ".pb_text")) {
      if (!google::protobuf::TextFormat::ParseFromString(text, &out)) {
        errors.add("", "'" + path + "' is not a valid text-format Bootstrap");
      }
    } else if (endsWith(path, ".pb")) {
      if (!out.ParseFromString(text)) errors.add("", "'" + path + "' is not a valid binary Bootstrap");
    } else {
      errors.add("", "'" + path + "': unsupported file extension (use .yaml, .yml, .json, .pb or .pb_text)");
    }
  }
  if (!source.config_yaml.empty()) {
    // Envoy merges --config-yaml over the file: scalars replace, lists append.
    envoy::config::bootstrap::v3::Bootstrap overlay;
    ErrorList overlay_errors;
    parseYamlInto(source.config_yaml, overlay, overlay_errors);
    for (const auto& e : overlay_errors.errors()) {
      errors.add(e.path.empty() ? "--config-yaml" : "--config-yaml: " + e.path, e.message);
    }
    out.MergeFrom(overlay);
  }
  return errors.size() == before;
}

void validateBootstrap(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, ErrorList& errors) {
  ErrorList unsupported;
  checkSupported(bootstrap, "", unsupported);
  ErrorList rules;
  validateRules(bootstrap, "", rules);
  // A rule broken inside a field sluice rejects anyway is noise: the user
  // removes the whole field. Keep only rule errors outside rejected subtrees.
  auto underRejected = [&](const std::string& path) {
    for (const auto& u : unsupported.errors()) {
      if (path.size() > u.path.size() && path.compare(0, u.path.size(), u.path) == 0 &&
          (path[u.path.size()] == '.' || path[u.path.size()] == '[')) {
        return true;
      }
    }
    return false;
  };
  for (const auto& e : rules.errors()) {
    if (!underRejected(e.path)) errors.add(e.path, e.message);
  }
  errors.append(unsupported);
  checkSemantics(bootstrap, errors);
}

bool loadBootstrap(const BootstrapSource& source, envoy::config::bootstrap::v3::Bootstrap& out, ErrorList& errors) {
  if (!readBootstrap(source, out, errors)) return false;
  const size_t before = errors.size();
  validateBootstrap(out, errors);
  return errors.size() == before;
}

}  // namespace sluice::config
