// GrpcAdsTransport against an in-process gRPC server on 127.0.0.1 port 0:
// events arrive on the io_context given (the main thread's), requests reach
// the server, a server that goes away closes the stream, and stop() returns
// promptly whatever the transport is doing.
#include "config/xds/grpc_transport.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace sluice::config::xds {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

// Answers every request with a response of its type, nonce = request count,
// version_info = the request's resource names, joined by commas.
class EchoAds final : public envoy::service::discovery::v3::AggregatedDiscoveryService::Service {
 public:
  grpc::Status StreamAggregatedResources(
      grpc::ServerContext*, grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>* stream) override {
    DiscoveryRequest request;
    while (stream->Read(&request)) {
      DiscoveryResponse response;
      response.set_type_url(request.type_url());
      response.set_nonce(std::to_string(++requests));
      std::string names;
      for (const auto& n : request.resource_names()) names += (names.empty() ? "" : ",") + n;
      response.set_version_info(names);
      stream->Write(response);
    }
    return grpc::Status::OK;
  }
  std::atomic<int> requests{0};
};

class Events final : public AdsStreamEvents {
 public:
  void onStreamOpen(uint64_t stream, const std::string&) override {
    EXPECT_EQ(std::this_thread::get_id(), main);
    opened = stream;
  }
  void onResponse(uint64_t, DiscoveryResponse response, ReceivedAt) override {
    EXPECT_EQ(std::this_thread::get_id(), main);
    responses.push_back(std::move(response));
  }
  void onStreamClosed(uint64_t stream, const std::string&) override {
    EXPECT_EQ(std::this_thread::get_id(), main);
    closed.push_back(stream);
  }
  std::thread::id main = std::this_thread::get_id();
  uint64_t opened = 0;
  std::vector<DiscoveryResponse> responses;
  std::vector<uint64_t> closed;
};

class GrpcTransportTest : public ::testing::Test {
 protected:
  void startServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
  }
  // Runs the io_context until `done`, for at most 10 s.
  template <typename Done>
  bool runUntil(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(std::chrono::milliseconds(10));
    }
    return done();
  }
  asio::io_context io_;
  // The transport posts from its threads: the io_context must not run out of work meanwhile.
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  EchoAds service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  stats::Store store_{1};
  Events events_;
};

TEST_F(GrpcTransportTest, OpensAStreamAndDeliversResponsesOnTheMainThread) {
  startServer();
  GrpcTransportOptions options;
  options.targets = {"ipv4:127.0.0.1:" + std::to_string(port_)};
  GrpcAdsTransport transport(io_, options, store_);
  transport.start(events_);
  ASSERT_TRUE(runUntil([&] { return events_.opened != 0; }));
  DiscoveryRequest request;
  request.set_type_url("type.googleapis.com/envoy.config.cluster.v3.Cluster");
  transport.send(events_.opened, request, std::make_shared<const std::vector<std::string>>(1, "web"));
  transport.send(events_.opened + 1, request, nullptr);  // not the open stream: dropped
  ASSERT_TRUE(runUntil([&] { return !events_.responses.empty(); }));
  EXPECT_EQ(events_.responses[0].type_url(), request.type_url());
  EXPECT_EQ(events_.responses[0].version_info(), "web") << "the shared names are written with the request";
  server_->Shutdown(std::chrono::system_clock::now());
  ASSERT_TRUE(runUntil([&] { return !events_.closed.empty(); }));
  EXPECT_EQ(events_.closed[0], events_.opened);
  EXPECT_EQ(service_.requests.load(), 1);
  transport.stop();
}

TEST_F(GrpcTransportTest, TriesTheNextEndpointAndStopsPromptlyWhileReconnecting) {
  startServer();
  // The first target refuses (nothing listens on port 1 of 127.0.0.1).
  GrpcTransportOptions options;
  options.targets = {"ipv4:127.0.0.1:1", "ipv4:127.0.0.1:" + std::to_string(port_)};
  options.connect_timeout = std::chrono::milliseconds(200);
  GrpcAdsTransport transport(io_, options, store_);
  transport.start(events_);
  ASSERT_TRUE(runUntil([&] { return events_.opened != 0; }));
  EXPECT_FALSE(events_.closed.empty());  // the refused attempt came first
  server_->Shutdown(std::chrono::system_clock::now());
  ASSERT_TRUE(runUntil([&] { return events_.closed.size() >= 2; }));
  const auto before = std::chrono::steady_clock::now();
  transport.stop();  // in its backoff or connecting: it must not wait either out
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(1000));
  const auto seen = events_.closed.size();
  io_.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(events_.closed.size(), seen);  // nothing after stop()
}

}  // namespace
}  // namespace sluice::config::xds
