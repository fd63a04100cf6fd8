#include "accesslog/access_log.h"

#include <cassert>
#include <cctype>

#include "config/any_util.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/access_loggers/grpc/v3/als.pb.h"
#include "envoy/extensions/access_loggers/stream/v3/stream.pb.h"

namespace sluice::accesslog {
namespace {

using envoy::extensions::access_loggers::file::v3::FileAccessLog;
using envoy::extensions::access_loggers::grpc::v3::HttpGrpcAccessLogConfig;
using envoy::extensions::access_loggers::stream::v3::StderrAccessLog;
using envoy::extensions::access_loggers::stream::v3::StdoutAccessLog;

// The log_format if set, else Envoy's default text format.
template <typename Logger>
std::unique_ptr<const Formatter> formatterOf(const Logger& logger, const std::string& path, config::ErrorList& errors) {
  if (logger.has_log_format())
    return Formatter::build(logger.log_format(), config::childPath(path, "log_format"), errors);
  return Formatter::text(kDefaultFormat, path, errors);
}

}  // namespace

std::shared_ptr<const AccessLog> buildAccessLog(const envoy::config::accesslog::v3::AccessLog& config,
                                                std::string_view path, LogWriter* writer, config::ErrorList& errors) {
  auto log = std::make_shared<AccessLog>();
  log->writer = writer;
  const size_t before = errors.size();
  if (config.has_filter()) log->filter = Filter::build(config.filter(), config::childPath(path, "filter"), errors);
  const std::string typed_path = config::childPath(path, "typed_config");
  if (!config.has_typed_config()) {
    errors.add(typed_path, "is required (envoy.access_loggers.file, stdout, stderr or http_grpc)");
    return nullptr;
  }
  const auto type = config::typeNameOfUrl(config.typed_config().type_url());
  if (type == FileAccessLog::descriptor()->full_name()) {
    FileAccessLog file;
    if (!config.typed_config().UnpackTo(&file)) {
      errors.add(typed_path, "does not parse as FileAccessLog");
      return nullptr;
    }
    log->formatter = formatterOf(file, typed_path, errors);
    if (writer != nullptr && errors.size() == before) {
      std::string error;
      log->sink = writer->fileSink(file.path(), error);
      if (log->sink == nullptr) errors.add(config::childPath(typed_path, "path"), error);
    }
  } else if (type == StdoutAccessLog::descriptor()->full_name()) {
    StdoutAccessLog out;
    if (!config.typed_config().UnpackTo(&out)) {
      errors.add(typed_path, "does not parse as StdoutAccessLog");
      return nullptr;
    }
    log->formatter = formatterOf(out, typed_path, errors);
    if (writer != nullptr) log->sink = writer->stdoutSink();
  } else if (type == StderrAccessLog::descriptor()->full_name()) {
    StderrAccessLog err;
    if (!config.typed_config().UnpackTo(&err)) {
      errors.add(typed_path, "does not parse as StderrAccessLog");
      return nullptr;
    }
    log->formatter = formatterOf(err, typed_path, errors);
    if (writer != nullptr) log->sink = writer->stderrSink();
  } else if (type == HttpGrpcAccessLogConfig::descriptor()->full_name()) {
    HttpGrpcAccessLogConfig grpc;
    if (!config.typed_config().UnpackTo(&grpc)) {
      errors.add(typed_path, "does not parse as HttpGrpcAccessLogConfig");
      return nullptr;
    }
    auto fields = std::make_unique<HttpEntryFields>();
    const auto lower = [](std::string s) {
      for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return s;
    };
    for (const auto& h : grpc.additional_request_headers_to_log()) fields->request_headers.push_back(lower(h));
    for (const auto& h : grpc.additional_response_headers_to_log()) fields->response_headers.push_back(lower(h));
    log->grpc = std::move(fields);
    if (writer != nullptr && writer->grpcFactory()) {
      const auto& common = grpc.common_config();
      // One client (one stream) per cluster and log name, as Envoy shares them.
      const std::string key = common.grpc_service().envoy_grpc().cluster_name() + '\n' + common.log_name();
      log->sink = writer->grpcSink(key, [&] { return writer->grpcFactory()(common); });
    }
  } else {
    // The supported-subset gate allows only the four loggers above in an access log.
    assert(false && "rejected by the gate");
    return nullptr;
  }
  if (errors.size() != before) return nullptr;
  return log;
}

void emitAccessLogs(const AccessLogs& logs, const LogContext& line, const FilterContext& filter, size_t producer) {
  for (const auto& log : logs) {
    if (log->sink == nullptr) continue;
    if (log->filter && !log->filter->evaluate(filter)) continue;
    std::string* buffer = log->writer->begin(producer);
    if (buffer == nullptr) continue;  // the queue is full: dropped and counted
    if (log->grpc) {
      // One message per worker thread, its storage reused entry after entry.
      thread_local envoy::data::accesslog::v3::HTTPAccessLogEntry entry;
      buildHttpEntry(line, *log->grpc, entry);
      GrpcLogClient::appendFrame(entry, *buffer);
    } else {
      log->formatter->format(line, *buffer);
    }
    log->writer->commit(producer, log->sink);
  }
}

}  // namespace sluice::accesslog
