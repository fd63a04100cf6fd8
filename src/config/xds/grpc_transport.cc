#include "config/xds/grpc_transport.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/sync_stream.h>

#include <asio/post.hpp>
#include <random>

#include "config/backoff.h"
#include "config/input_limits.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace sluice::config::xds {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

template <typename Request, typename Response>
GrpcAdsTransportOf<Request, Response>::GrpcAdsTransportOf(asio::io_context& main, GrpcTransportOptions options,
                                                          stats::Store& store)
    : main_(main),
      options_(std::move(options)),
      pending_requests_(store.gauge(options_.stat_prefix + "pending_requests")),
      rate_limit_enforced_(store.counter(options_.stat_prefix + "rate_limit_enforced")) {
  pending_requests_.set(0);
  if (options_.rate_limit) {
    bucket_.emplace(options_.rate_limit->max_tokens, options_.rate_limit->fill_rate, TokenBucket::Clock::now());
  }
}

template <typename Request, typename Response>
GrpcAdsTransportOf<Request, Response>::~GrpcAdsTransportOf() {
  stop();
}

template <typename Request, typename Response>
void GrpcAdsTransportOf<Request, Response>::start(AdsStreamEventsOf<Response>& events) {
  events_ = &events;
  *alive_ = true;
  thread_ = std::thread([this] { run(); });
}

template <typename Request, typename Response>
void GrpcAdsTransportOf<Request, Response>::stop() {
  *alive_ = false;  // events already posted are dropped
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

template <typename Request, typename Response>
template <typename Event>
void GrpcAdsTransportOf<Request, Response>::post(Event event) {
  asio::post(main_, [alive = alive_, event = std::move(event)]() mutable {
    if (*alive) event();
  });
}

template <typename Request, typename Response>
void GrpcAdsTransportOf<Request, Response>::send(uint64_t stream, Request request, SharedNames names) {
  {
    std::lock_guard lock(mutex_);
    if (stream != stream_ || stream_done_ || stopping_) return;
    queue_.emplace_back(std::move(request), std::move(names));
    pending_requests_.set(static_cast<int64_t>(queue_.size()));
  }
  wake_.notify_all();
}

template <typename Request, typename Response>
bool GrpcAdsTransportOf<Request, Response>::waitFor(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_; });
}

template <typename Request, typename Response>
void GrpcAdsTransportOf<Request, Response>::run() {
  std::mt19937_64 random(std::random_device{}());
  size_t next_target = 0;
  uint32_t failures = 0;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    const std::string& target = options_.targets[next_target];
    next_target = (next_target + 1) % options_.targets.size();  // the next attempt tries the next endpoint
    if (runStream(target)) failures = 0;
    const auto delay = config::jitteredBackoff(options_.backoff_base, options_.backoff_max, failures++, random);
    if (!waitFor(delay)) return;
  }
}

template <typename Request, typename Response>
bool GrpcAdsTransportOf<Request, Response>::runStream(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(kMaxConfigBytes));
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  // A fresh channel per attempt: the backoff here is the only one.
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  const auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
  bool connected = false;
  while (!connected && std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return false;
    }
    // gRPC takes system_clock deadlines; short ones, so that stop() is heard.
    connected = channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  }
  if (!connected) {
    post([this, target] { events_->onStreamClosed(0, "cannot connect to " + target); });
    return false;
  }
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream;
  uint64_t number = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    context_ = &context;
    // The method by name (ADS, or a per-type service such as
    // ClusterDiscoveryService.StreamClusters): the messages are the same.
    const grpc::internal::RpcMethod method(options_.method.c_str(), grpc::internal::RpcMethod::BIDI_STREAMING);
    stream.reset(grpc::internal::ClientReaderWriterFactory<Request, Response>::Create(channel.get(), method, &context));
    number = ++stream_;
    stream_done_ = false;
    queue_.clear();
    pending_requests_.set(0);
  }
  post([this, number, target] { events_->onStreamOpen(number, target); });
  std::thread writer([this, number, raw = stream.get()] { writeLoop(number, raw); });
  bool got_response = false;
  Response response;
  while (stream->Read(&response)) {
    got_response = true;
    const ReceivedAt received = std::chrono::steady_clock::now();
    post([this, number, received, r = std::move(response)]() mutable {
      events_->onResponse(number, std::move(r), received);
    });
    response = Response();
  }
  {
    std::lock_guard lock(mutex_);
    stream_done_ = true;
    queue_.clear();
    pending_requests_.set(0);
  }
  wake_.notify_all();
  writer.join();
  const grpc::Status status = stream->Finish();
  {
    std::lock_guard lock(mutex_);
    context_ = nullptr;
  }
  std::string reason = status.ok() ? "closed by the server" : status.error_message();
  if (reason.empty()) reason = "status " + std::to_string(status.error_code());
  post([this, number, reason] { events_->onStreamClosed(number, reason); });
  return got_response;
}

template <typename Request, typename Response>
void GrpcAdsTransportOf<Request, Response>::writeLoop(uint64_t number, void* raw_stream) {
  auto* stream = static_cast<grpc::ClientReaderWriter<Request, Response>*>(raw_stream);
  while (true) {
    Request request;
    SharedNames names;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || stream_done_ || !queue_.empty(); });
      if (stopping_ || stream_done_ || stream_ != number) return;
      if (!takeToken(lock)) return;
      request = std::move(queue_.front().first);
      names = std::move(queue_.front().second);
      queue_.pop_front();
    }
    if constexpr (std::is_same_v<Request, DiscoveryRequest>) {
      if (names) {
        request.mutable_resource_names()->Reserve(static_cast<int>(names->size()));
        for (const auto& n : *names) request.add_resource_names(n);
      }
    }
    const bool written = stream->Write(request);
    {
      std::lock_guard lock(mutex_);
      pending_requests_.set(static_cast<int64_t>(queue_.size()));
    }
    if (!written) return;
  }
}

template <typename Request, typename Response>
bool GrpcAdsTransportOf<Request, Response>::takeToken(std::unique_lock<std::mutex>& lock) {
  if (!bucket_) return true;
  bool counted = false;
  while (!bucket_->consume(TokenBucket::Clock::now())) {
    if (!counted) rate_limit_enforced_.inc();  // once per request that waits
    counted = true;
    wake_.wait_for(lock, bucket_->untilNext(TokenBucket::Clock::now()), [this] { return stopping_ || stream_done_; });
    if (stopping_ || stream_done_) return false;
  }
  return true;
}

template class GrpcAdsTransportOf<DiscoveryRequest, DiscoveryResponse>;
template class GrpcAdsTransportOf<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
template class GrpcAdsTransportOf<envoy::service::load_stats::v3::LoadStatsRequest,
                                  envoy::service::load_stats::v3::LoadStatsResponse>;

}  // namespace sluice::config::xds
