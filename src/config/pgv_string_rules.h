// Part of the PGV validator (config/pgv_validator.h): the rules for one
// `string` or `bytes` value, including the well-known formats (hostname, IP,
// URI, HTTP header, ...), and the formatting its messages share. Not an API of
// its own. Main thread only: compiled patterns are cached in an unsynchronised
// static map.
#pragma once

#include <string>
#include <string_view>

#include "config/config_error.h"
#include "validate/validate.pb.h"

namespace sluice::config::pgv {

// Adds one error per violated rule, each at `path`.
void checkString(std::string_view value, const validate::StringRules& rules, const std::string& path,
                 ErrorList& errors);
void checkBytes(std::string_view value, const validate::BytesRules& rules, const std::string& path, ErrorList& errors);

// `"value"` with `"` and `\` escaped and control bytes written as \xNN.
std::string quote(std::string_view value);

// `[a, b, c]`, each item formatted by `format`.
template <typename Items, typename Format>
std::string bracketed(const Items& items, Format format) {
  std::string out = "[";
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += ", ";
    first = false;
    out += format(item);
  }
  out += ']';
  return out;
}

}  // namespace sluice::config::pgv
