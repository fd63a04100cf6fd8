// The gRPC access-log client's bounds and framing, without a service: what
// waits beyond kMaxPendingBytes is dropped and counted, and what no stream
// took by shutdown is counted too; nothing is counted written.
#include "accesslog/grpc_access_log.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::accesslog {
namespace {

TEST(GrpcAccessLog, FramesRoundTripAndTheBoundDropsAndCounts) {
  stats::Store store(1);
  {
    GrpcLogOptions options;
    options.targets = {"unix:/nonexistent/als.sock"};  // never reachable
    options.log_name = "l";
    options.flush_interval = std::chrono::hours(1);  // nothing is sent before shutdown
    options.buffer_size_bytes = ~0u;
    GrpcLogClient client(std::move(options), store);
    envoy::data::accesslog::v3::HTTPAccessLogEntry entry;
    entry.mutable_request()->set_path(std::string(1000, 'p'));
    const size_t size = entry.ByteSizeLong();
    std::string frames;
    const size_t per_batch = 1000;
    for (size_t i = 0; i < per_batch; ++i) GrpcLogClient::appendFrame(entry, frames);
    ASSERT_EQ(frames.size(), per_batch * (4 + size));
    // 5 batches of about 1 MB: the last one passes the 4 MiB bound.
    for (int b = 0; b < 5; ++b) client.enqueue(frames);
    const size_t fit = GrpcLogClient::kMaxPendingBytes / size;
    EXPECT_EQ(store.counter("access_logs.grpc_access_log.logs_dropped").value(), 5 * per_batch - fit);
    // A torn frame (shorter than its length says) is ignored, not read past.
    client.enqueue(std::string_view(frames).substr(0, 10));
  }
  // Shutdown: the stream never opened, so everything waiting is dropped too.
  EXPECT_EQ(store.counter("access_logs.grpc_access_log.logs_dropped").value(), 5000u);
  EXPECT_EQ(store.counter("access_logs.grpc_access_log.logs_written").value(), 0u);
}

}  // namespace
}  // namespace sluice::accesslog
