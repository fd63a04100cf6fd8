// DataSource (filename, inline_string, inline_bytes): the bytes it names.
// A file is read when the config is compiled (main thread), at most 1 MiB.
#pragma once

#include <optional>
#include <string>

#include "config/config_error.h"
#include "envoy/config/core/v3/base.pb.h"

namespace sluice::config {

// The contents, or nullopt with an error at `path` (the DataSource's).
std::optional<std::string> readDataSource(const envoy::config::core::v3::DataSource& source, const std::string& path,
                                          ErrorList& errors);

}  // namespace sluice::config
