// Formatter: Envoy's substitution format strings (access-log command
// operators such as %REQ(X?Y):Z% and %START_TIME(%s.%3f)%), as text or as a
// JSON object. Built once from the config on the main thread (every syntax
// error is a config error naming the field path); immutable afterwards, so
// any worker may format with it concurrently. Formatting appends to a caller's
// buffer and allocates nothing once that buffer has grown to a line's size.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accesslog/stream_info.h"
#include "config/config_error.h"
#include "envoy/config/core/v3/substitution_format_string.pb.h"
#include "http/header_map.h"

namespace sluice::accesslog {

// Envoy's default access-log format.
extern const std::string_view kDefaultFormat;

// Everything a line may read, at the moment the stream ends.
struct LogContext {
  const StreamInfo& info;
  const http::HeaderMap* request_headers = nullptr;  // nullptr: no request head
  std::string_view method;
  std::string_view path;
  int http_minor = 1;                                 // HTTP/1.<http_minor>
  const http::HeaderMap* response_headers = nullptr;  // nullptr: no response was sent
  StreamInfo::Clock::time_point now;                  // the end of the stream
  std::chrono::system_clock::time_point start_time;   // wall-clock time of info.start
};

class Formatter {
 public:
  ~Formatter();
  // From a SubstitutionFormatString at `path`; nullptr when it has errors
  // (added to `errors`).
  static std::unique_ptr<const Formatter> build(const envoy::config::core::v3::SubstitutionFormatString& config,
                                                std::string_view path, config::ErrorList& errors);
  // A text format string; `path` names where it came from, for errors.
  static std::unique_ptr<const Formatter> text(std::string_view format, std::string_view path,
                                               config::ErrorList& errors, bool omit_empty_values = false);

  // Appends the formatted line to `out`.
  void format(const LogContext& context, std::string& out) const;

  struct Operator;
  struct Piece;
  struct JsonField;

 private:
  Formatter();
  bool json_ = false;
  bool omit_empty_values_ = false;
  std::vector<Piece> text_;
  std::vector<JsonField> fields_;
};

}  // namespace sluice::accesslog
