#include "control/ads_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <deque>
#include <mutex>

#include <asio/post.hpp>

#include "control/lrs_service.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace sluice::control {

namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

// The session's sink interface for a response type.
template <typename Response>
struct SinkOf;
template <>
struct SinkOf<DiscoveryResponse> {
  using type = ResponseSink;
};
template <>
struct SinkOf<DeltaDiscoveryResponse> {
  using type = DeltaResponseSink;
};

// What the main thread and gRPC's threads share for one stream: the write
// queue and whether the stream can still take writes. The reactor (gRPC
// threads) and the closures it posts to the main thread hold it; `id` and
// `sink` are the main thread's.
template <typename Request, typename Response>
struct StreamLink {
  std::recursive_mutex mutex;                                     // gRPC may run a reaction inline in StartWrite
  grpc::ServerBidiReactor<Request, Response>* reactor = nullptr;  // null once done
  std::deque<Response> queue;                                     // front: being written
  bool reads_done = false;                                        // finish once the queue drains
  bool finished = false;
  uint64_t id = 0;
  std::unique_ptr<typename SinkOf<Response>::type> sink;
};

// Main thread: queues a response; written at once when none is in flight.
template <typename Request, typename Response>
class Sink final : public SinkOf<Response>::type {
 public:
  explicit Sink(StreamLink<Request, Response>& link) : link_(link) {}
  void send(const Response& response) override {
    std::lock_guard lock(link_.mutex);
    if (link_.reactor == nullptr || link_.finished || link_.reads_done) return;
    link_.queue.push_back(response);
    if (link_.queue.size() == 1) link_.reactor->StartWrite(&link_.queue.front());
  }

 private:
  StreamLink<Request, Response>& link_;
};

// One ADS stream on gRPC's side. Work posted to the main io_context runs in
// the order posted (one thread runs it), so the session is open before the
// first request reaches it and closed after the last.
// SotW and delta alike (the types pick ControlPlane's overloads).
template <typename Request, typename Response>
class Stream final : public grpc::ServerBidiReactor<Request, Response> {
  using Link = StreamLink<Request, Response>;

 public:
  Stream(asio::io_context& io, ControlPlane& control_plane)
      : io_(io), control_plane_(control_plane), link_(std::make_shared<Link>()) {
    link_->reactor = this;
    asio::post(io_, [&control_plane, link = link_] {
      link->sink = std::make_unique<Sink<Request, Response>>(*link);
      link->id = control_plane.openSession(*link->sink);
    });
    this->StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard lock(link_->mutex);
      link_->reads_done = true;
      finishIfDrained();
      return;
    }
    asio::post(io_, [&control_plane = control_plane_, link = link_, request = std::move(request_)] {
      control_plane.onRequest(link->id, request);
    });
    request_.Clear();
    this->StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(link_->mutex);
    link_->queue.pop_front();
    if (!ok) {
      link_->queue.clear();
      link_->reads_done = true;
    }
    if (!link_->queue.empty() && !link_->finished) {
      this->StartWrite(&link_->queue.front());
      return;
    }
    finishIfDrained();
  }

  void OnDone() override {
    {
      std::lock_guard lock(link_->mutex);
      link_->reactor = nullptr;
    }
    asio::post(io_, [&control_plane = control_plane_, link = link_] {
      control_plane.closeSession(link->id);
      link->sink.reset();
    });
    delete this;
  }

 private:
  // Holds link_->mutex.
  void finishIfDrained() {
    if (link_->finished || !link_->reads_done || !link_->queue.empty()) return;
    link_->finished = true;
    this->Finish(grpc::Status::OK);
  }

  asio::io_context& io_;
  ControlPlane& control_plane_;
  std::shared_ptr<Link> link_;
  Request request_;
};

}  // namespace

class AdsServer::Service final : public envoy::service::discovery::v3::AggregatedDiscoveryService::CallbackService {
 public:
  Service(asio::io_context& io, ControlPlane& control_plane) : io_(io), control_plane_(control_plane) {}
  grpc::ServerBidiReactor<DiscoveryRequest, DiscoveryResponse>* StreamAggregatedResources(
      grpc::CallbackServerContext* /*context*/) override {
    return new Stream<DiscoveryRequest, DiscoveryResponse>(io_, control_plane_);
  }
  grpc::ServerBidiReactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse>* DeltaAggregatedResources(
      grpc::CallbackServerContext* /*context*/) override {
    return new Stream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>(io_, control_plane_);
  }

 private:
  asio::io_context& io_;
  ControlPlane& control_plane_;
};

AdsServer::AdsServer(asio::io_context& io, ControlPlane& control_plane, LoadReports* loads)
    : io_(io), control_plane_(control_plane), loads_(loads) {}

AdsServer::~AdsServer() { shutdown(); }

bool AdsServer::start(const std::string& address, int& port, std::string& error) {
  service_ = std::make_unique<Service>(io_, control_plane_);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service_.get());
  if (loads_ != nullptr) {
    lrs_ = std::make_unique<LrsService>(io_, *loads_);
    builder.RegisterService(lrs_.get());
  }
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    error = "--xds-listen " + address + ": cannot listen there";
    server_.reset();
    return false;
  }
  return true;
}

void AdsServer::shutdown() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    server_.reset();
  }
}

}  // namespace sluice::control
