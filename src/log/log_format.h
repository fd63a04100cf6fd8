// The application log's line layout: Envoy's --log-format (spdlog's pattern
// flags plus Envoy's %_ and %j) and --log-format-escaped. Used by logger.cc
// on the main thread at init; the formatters then run on the writer thread.
#pragma once

#include "common/json_escape.h"

#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class formatter;
}  // namespace spdlog

namespace sluice::log {

// A formatter for `format` (checked with checkFormat() first). `escaped`:
// the whole line C-escaped but for its trailing whitespace, as Envoy's
// --log-format-escaped does.
std::unique_ptr<spdlog::formatter> makeFormatter(const std::string& format, bool escaped);

// Envoy's escapes: C-style for --log-format-escaped (absl::CEscape's set:
// \n \r \t \" \' \\ and octal for other non-printable bytes), newlines only
// for %_, and a JSON string's body for %j.
std::string escapeC(std::string_view text);
std::string escapeNewlines(std::string_view text);
using ::sluice::escapeJson;

}  // namespace sluice::log
