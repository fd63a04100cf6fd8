// Loading Envoy's v3 bootstrap from a file (`-c`) and/or an inline string
// (`--config-yaml`, merged over the file as Envoy does), then validating it in
// three layers: protoc-gen-validate rules, the supported-subset gate, and
// semantics. Main thread only.
#pragma once

#include <string>

#include "config/config_error.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace sluice::config {

struct BootstrapSource {
  std::string config_path;  // .yaml, .yml, .json, .pb or .pb_text; may be empty
  std::string config_yaml;  // YAML or JSON; may be empty
};

// Reads and parses; no validation. Returns false with errors on failure.
bool readBootstrap(const BootstrapSource& source, envoy::config::bootstrap::v3::Bootstrap& out, ErrorList& errors);

// The three validation layers over a parsed bootstrap; all errors are reported.
void validateBootstrap(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, ErrorList& errors);

// readBootstrap + validateBootstrap.
bool loadBootstrap(const BootstrapSource& source, envoy::config::bootstrap::v3::Bootstrap& out, ErrorList& errors);

}  // namespace sluice::config
