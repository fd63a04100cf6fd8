// AccessLog: one entry of an HTTP connection manager's `access_log`: a filter,
// a format and a sink. Built on the main thread while a config is compiled,
// immutable afterwards; workers call emitAccessLogs() at the end of each
// stream, on their own thread.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "accesslog/filter.h"
#include "accesslog/formatter.h"
#include "accesslog/grpc_access_log.h"
#include "accesslog/log_writer.h"
#include "config/config_error.h"
#include "envoy/config/accesslog/v3/accesslog.pb.h"

namespace sluice::accesslog {

struct AccessLog {
  std::unique_ptr<const Filter> filter;  // nullptr: every stream
  std::unique_ptr<const Formatter> formatter;
  LogWriter* writer = nullptr;  // nullptr: built to validate only
  Sink* sink = nullptr;
  // envoy.access_loggers.http_grpc: entries instead of formatted lines.
  std::unique_ptr<const HttpEntryFields> grpc;
};

using AccessLogs = std::vector<std::shared_ptr<const AccessLog>>;

// From an Envoy AccessLog at `path`. Without a `writer` nothing is opened
// (validation). nullptr on errors (added to `errors`).
std::shared_ptr<const AccessLog> buildAccessLog(const envoy::config::accesslog::v3::AccessLog& config,
                                                std::string_view path, LogWriter* writer, config::ErrorList& errors);

// Writes one line to each log whose filter passes, from worker `producer`.
void emitAccessLogs(const AccessLogs& logs, const LogContext& line, const FilterContext& filter, size_t producer);

}  // namespace sluice::accesslog
