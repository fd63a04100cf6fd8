// The gRPC access-log service client (envoy.access_loggers.http_grpc):
// entries go to `envoy.service.accesslog.v3.AccessLogService.StreamAccessLogs`
// on a thread of its own, never from a worker.
//
// Workers encode each entry (an HTTPAccessLogEntry, built in a per-thread
// message that keeps its storage) into their LogWriter ring like a text line,
// framed by a 4-byte length; the LogWriter's thread hands each batch to
// enqueue(). This client keeps what is waiting in a buffer bounded by
// kMaxPendingBytes (beyond it entries are dropped and counted) and sends one
// StreamAccessLogsMessage when `buffer_size_bytes` have gathered or
// `buffer_flush_interval` has passed since the oldest one, as Envoy does. The
// first message of each stream carries the identifier (node, log_name). A
// failed write loses that message's entries (counted in logs_dropped) and the
// stream; the next is opened on the cluster's next endpoint after a jittered
// exponential backoff (500 ms doubling to 30 s, reset by a good write).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "accesslog/formatter.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/data/accesslog/v3/accesslog.pb.h"
#include "stats/stats.h"

namespace grpc {
class ClientContext;
}

namespace sluice::accesslog {

struct GrpcLogOptions {
  std::vector<std::string> targets;  // gRPC targets of the cluster's endpoints, tried in turn
  std::string log_name;
  envoy::config::core::v3::Node node;
  std::chrono::milliseconds flush_interval{1000};  // Envoy's default buffer_flush_interval
  uint32_t buffer_size_bytes = 16384;              // Envoy's default
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_max{30000};
};

// What an HttpGrpcAccessLogConfig logs beyond the fixed fields: its
// additional_request_headers_to_log and additional_response_headers_to_log
// (lower-cased at load).
struct HttpEntryFields {
  std::vector<std::string> request_headers;
  std::vector<std::string> response_headers;
};

// Fills `entry` (cleared first; its storage is reused) from the stream that
// ended: Envoy's HTTPAccessLogEntry fields sluice knows (common properties,
// protocol, request, response).
void buildHttpEntry(const LogContext& context, const HttpEntryFields& fields,
                    envoy::data::accesslog::v3::HTTPAccessLogEntry& entry);

class GrpcLogClient {
 public:
  // Entries waiting beyond this many bytes are dropped (logs_dropped).
  static constexpr size_t kMaxPendingBytes = 4u << 20;

  // access_logs.grpc_access_log.logs_written and logs_dropped come from `store`.
  GrpcLogClient(GrpcLogOptions options, stats::Store& store);
  ~GrpcLogClient();  // sends what is waiting if a stream is open, then stops
  GrpcLogClient(const GrpcLogClient&) = delete;
  GrpcLogClient& operator=(const GrpcLogClient&) = delete;

  // Any thread (the LogWriter's): entries, each a 4-byte little-endian length
  // then a serialized HTTPAccessLogEntry.
  void enqueue(std::string_view frames);

  // Appends `entry`'s frame (4-byte little-endian length, then the entry
  // serialized) to `out` (workers).
  static void appendFrame(const google::protobuf::MessageLite& entry, std::string& out);

 private:
  void run();
  void runStreams();
  // Sends batches on one stream to `target` until a write fails or stop.
  // True if a write succeeded.
  bool runStream(const std::string& target);
  bool waitFor(std::chrono::milliseconds delay);

  const GrpcLogOptions options_;
  stats::Counter& written_;
  stats::Counter& dropped_;
  std::mutex mutex_;  // the LogWriter's thread and this one; never a worker
  std::condition_variable wake_;
  std::vector<std::string> pending_;  // serialized entries, oldest first
  size_t pending_bytes_ = 0;
  std::chrono::steady_clock::time_point oldest_;  // when pending_ became non-empty
  bool stopping_ = false;
  bool finished_ = false;                   // run() returned
  grpc::ClientContext* context_ = nullptr;  // the open stream's, for TryCancel
  std::thread thread_;
};

}  // namespace sluice::accesslog
