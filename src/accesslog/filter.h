// Access-log filters (Envoy's AccessLogFilter): whether a stream's line is
// written. Built on the main thread from the config; immutable afterwards and
// evaluated by workers at the end of each stream.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "accesslog/stream_info.h"
#include "config/config_error.h"
#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "runtime/runtime.h"

namespace sluice::accesslog {

struct FilterContext {
  const StreamInfo& info;
  StreamInfo::Clock::time_point now;  // the end of the stream
  const runtime::Snapshot& runtime;
  uint64_t stream_random;       // the stream's random value (shared by every log of the stream)
  uint64_t independent_random;  // a fresh random value
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual bool evaluate(const FilterContext& context) const = 0;

  // nullptr when the filter has errors (added to `errors`, under `path`).
  static std::unique_ptr<const Filter> build(const envoy::config::accesslog::v3::AccessLogFilter& config,
                                             std::string_view path, config::ErrorList& errors);
};

}  // namespace sluice::accesslog
