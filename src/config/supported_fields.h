// The supported subset of Envoy's v3 API: the one table of every config field
// and typed extension sluice implements. The gate rejects, by path, any set
// field that is not in it, so nothing a user writes is silently ignored.
// docs/CONFIG.md is generated from the same table (sluice-config-doc).
// Immutable data; any thread may read it.
#pragma once

#include <google/protobuf/message.h>

#include <span>
#include <string>
#include <string_view>

#include "config/config_error.h"

namespace sluice::config {

struct SupportedField {
  std::string_view message;  // full proto name, e.g. "envoy.config.cluster.v3.Cluster"
  std::string_view field;    // proto field name, e.g. "connect_timeout"
  // '|'-separated; empty: all. For enum fields: the values sluice implements.
  // For string fields: the values sluice implements, compared ignoring case.
  // For google.protobuf.Any fields: the Envoy names of the extensions allowed
  // there (an extension is only supported where its field lists it).
  std::string_view enum_values;
  std::string_view note;  // how sluice treats it, where that is worth saying
};

struct SupportedExtension {
  std::string_view type;   // full proto name of the typed config
  std::string_view name;   // Envoy's extension name
  std::string_view where;  // where the extension may be used
};

std::span<const SupportedField> supportedFields();
std::span<const SupportedExtension> supportedExtensions();

// The gate: every field set in `message` (and under it, including typed
// configs) must be in the table; every enum value set must be one sluice
// implements; every typed config must be a supported extension allowed in
// its field. Code that compiles a gated config relies on this: it does not
// check again for fields sluice does not implement.
void checkSupported(const google::protobuf::Message& message, std::string_view path, ErrorList& errors);

// docs/CONFIG.md, generated from the table.
std::string supportedSubsetMarkdown();

}  // namespace sluice::config
