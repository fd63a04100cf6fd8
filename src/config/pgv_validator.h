// The protoc-gen-validate (PGV) rules that the Envoy v3 protos carry in their
// options (`(validate.rules)`, `(validate.required)`, `(validate.disabled)`),
// enforced generically through descriptor reflection: no per-message code.
// Stateless apart from a cache of compiled patterns; main thread only.
#pragma once

#include <google/protobuf/message.h>

#include <string_view>

#include "config/config_error.h"

namespace sluice::config {

// Checks the protoc-gen-validate rules of `message` and of every message
// under it, including the payloads of `google.protobuf.Any` fields (unpacked
// by type URL via config/any_util.h; an unknown type URL is reported as an error
// "unknown type 'URL'"). Each violation is added to `errors` with its field
// path rooted at `path` (e.g. path "static_resources" + field -> "static_resources.clusters[1].name").
void validateRules(const google::protobuf::Message& message, std::string_view path, ErrorList& errors);

}  // namespace sluice::config
