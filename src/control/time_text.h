// Times as the REST API writes them: RFC 3339 UTC with milliseconds
// ("2026-12-04T22:14:50.123Z"), "" for the epoch (never happened).
#pragma once

#include <chrono>
#include <string>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace sluice::control {

inline std::string timeText(std::chrono::system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) return "";
  const auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(t);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", ms);
}

}  // namespace sluice::control
