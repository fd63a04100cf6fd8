// How admin handlers print JSON built with nlohmann: indented by 2, with a
// final newline, and a string that is not UTF-8 printed with U+FFFD in place
// of its bad bytes (nlohmann's default throws, which cost a whole answer).
// Any thread; no state.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace sluice::admin {

inline std::string dumpJson(const nlohmann::json& value) {
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace sluice::admin
