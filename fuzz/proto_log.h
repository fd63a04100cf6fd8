// For the config targets: a protobuf ERROR log is a finding. protobuf logs
// instead of failing when, for instance, a string field holds invalid UTF-8
// (it then refuses to parse what it serialised); the loader must reject such
// input itself, with the field's path. Installed by a static initialiser.
#pragma once

#include <google/protobuf/stubs/logging.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace sluice::fuzz {

inline void failOnProtobufErrors(google::protobuf::LogLevel level, const char* file, int line,
                                 const std::string& message) {
  std::fprintf(stderr, "[libprotobuf %d %s:%d] %s\n", static_cast<int>(level), file, line, message.c_str());
  if (level >= google::protobuf::LOGLEVEL_ERROR) {
    std::fprintf(stderr, "fuzz invariant failed: protobuf logged an error\n");
    std::abort();
  }
}

inline const bool kProtobufLogHandlerInstalled = [] {
  google::protobuf::SetLogHandler(&failOnProtobufErrors);
  return true;
}();

}  // namespace sluice::fuzz
