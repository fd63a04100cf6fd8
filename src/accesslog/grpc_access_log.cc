#include "accesslog/grpc_access_log.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "config/backoff.h"
#include "envoy/service/accesslog/v3/als.grpc.pb.h"
#include "log/logger.h"

namespace sluice::accesslog {

using envoy::service::accesslog::v3::AccessLogService;
using envoy::service::accesslog::v3::StreamAccessLogsMessage;
using envoy::service::accesslog::v3::StreamAccessLogsResponse;

GrpcLogClient::GrpcLogClient(GrpcLogOptions options, stats::Store& store)
    : options_(std::move(options)),
      written_(store.counter("access_logs.grpc_access_log.logs_written")),
      dropped_(store.counter("access_logs.grpc_access_log.logs_dropped")) {
  thread_ = std::thread([this] { run(); });
}

GrpcLogClient::~GrpcLogClient() {
  {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
    // The open stream sends what is waiting; a service that does not take it
    // within a second is cancelled (shutdown never hangs on it).
    if (!wake_.wait_for(lock, std::chrono::seconds(1), [this] { return finished_; }) && context_ != nullptr) {
      context_->TryCancel();
    }
  }
  thread_.join();
  // What no stream took is lost: counted.
  if (!pending_.empty()) dropped_.inc(pending_.size());
}

void GrpcLogClient::appendFrame(const google::protobuf::MessageLite& entry, std::string& out) {
  // The length goes in front once the entry is serialized in place (no copy).
  const size_t at = out.size();
  out.append(4, '\0');
  entry.AppendToString(&out);
  const auto n = static_cast<uint32_t>(out.size() - at - 4);
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>((n >> (8 * i)) & 0xff);
}

void GrpcLogClient::enqueue(std::string_view frames) {
  size_t added = 0;
  size_t lost = 0;
  {
    std::lock_guard lock(mutex_);
    while (frames.size() >= 4) {
      const auto* p = reinterpret_cast<const unsigned char*>(frames.data());
      const size_t n = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<size_t>(p[3]) << 24);
      if (frames.size() - 4 < n) break;  // a torn frame cannot come from appendFrame
      if (pending_bytes_ + n > kMaxPendingBytes) {
        ++lost;
      } else {
        if (pending_.empty()) oldest_ = std::chrono::steady_clock::now();
        pending_.emplace_back(frames.substr(4, n));
        pending_bytes_ += n;
        ++added;
      }
      frames.remove_prefix(4 + n);
    }
  }
  if (lost != 0) dropped_.inc(lost);
  if (added != 0) wake_.notify_all();
}

bool GrpcLogClient::waitFor(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_; });
}

void GrpcLogClient::run() {
  runStreams();
  std::lock_guard lock(mutex_);
  finished_ = true;
  wake_.notify_all();
}

void GrpcLogClient::runStreams() {
  std::mt19937_64 random(std::random_device{}());
  size_t next_target = 0;
  uint32_t failures = 0;
  while (true) {
    {
      // No stream is opened before there is something to send.
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
    }
    const std::string& target = options_.targets[next_target];
    next_target = (next_target + 1) % options_.targets.size();
    if (runStream(target)) failures = 0;
    const auto delay = config::jitteredBackoff(options_.backoff_base, options_.backoff_max, failures++, random);
    if (!waitFor(delay)) return;
  }
}

bool GrpcLogClient::runStream(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  auto stub = AccessLogService::NewStub(channel);
  grpc::ClientContext context;
  StreamAccessLogsResponse response;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    context_ = &context;
  }
  auto stream = stub->StreamAccessLogs(&context, &response);
  bool first = true;
  bool any_written = false;
  StreamAccessLogsMessage message;
  while (true) {
    std::vector<std::string> batch;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      // Until buffer_size_bytes have gathered, the oldest waited
      // buffer_flush_interval, or stop (which sends what is there).
      while (!stopping_ &&
             (pending_.empty() || (pending_bytes_ < options_.buffer_size_bytes &&
                                   std::chrono::steady_clock::now() - oldest_ < options_.flush_interval))) {
        if (pending_.empty()) {
          wake_.wait(lock);
        } else {
          wake_.wait_until(lock, oldest_ + options_.flush_interval);
        }
      }
      stopping = stopping_;
      batch.swap(pending_);
      pending_bytes_ = 0;
    }
    if (!batch.empty()) {
      message.Clear();
      if (first) {
        *message.mutable_identifier()->mutable_node() = options_.node;
        message.mutable_identifier()->set_log_name(options_.log_name);
      }
      auto* entries = message.mutable_http_logs()->mutable_log_entry();
      entries->Reserve(static_cast<int>(batch.size()));
      size_t parsed = 0;
      for (const auto& bytes : batch) {
        if (entries->Add()->ParseFromString(bytes)) {
          ++parsed;
        } else {
          entries->RemoveLast();
        }
      }
      if (parsed != batch.size()) dropped_.inc(batch.size() - parsed);
      // Fails fast (no wait_for_ready) when the service cannot be reached.
      if (!stream->Write(message)) {
        dropped_.inc(parsed);
        break;
      }
      written_.inc(parsed);
      first = false;
      any_written = true;
    }
    if (stopping) break;
  }
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  {
    std::lock_guard lock(mutex_);
    context_ = nullptr;
  }
  if (!status.ok()) {
    SLUICE_LOG(main, warn, "sluice: access log service '{}' stream to {} ended: {}", options_.log_name, target,
               status.error_message());
  }
  return any_written;
}

}  // namespace sluice::accesslog

namespace sluice::accesslog {
namespace {

using envoy::data::accesslog::v3::AccessLogCommon;
using envoy::data::accesslog::v3::HTTPAccessLogEntry;

void setAddress(const asio::ip::address& ip, uint16_t port, envoy::config::core::v3::Address& out) {
  auto* sa = out.mutable_socket_address();
  sa->set_address(ip.to_string());
  sa->set_port_value(port);
}

void setDuration(StreamInfo::Clock::duration d, google::protobuf::Duration& out) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  out.set_seconds(ns / 1'000'000'000);
  out.set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
}

// "ip:port" (or "[v6]:port") of the chosen host.
void setHostAddress(std::string_view host, envoy::config::core::v3::Address& out) {
  const size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return;
  std::string_view ip = host.substr(0, colon);
  if (ip.size() >= 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
  uint32_t port = 0;
  for (const char c : host.substr(colon + 1)) {
    if (c < '0' || c > '9') return;
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  auto* sa = out.mutable_socket_address();
  sa->set_address(std::string(ip));
  sa->set_port_value(port);
}

void setFlags(uint32_t flags, AccessLogCommon& common) {
  if (flags == 0) return;
  auto* f = common.mutable_response_flags();
  f->set_failed_local_healthcheck(flags & kFailedLocalHealthCheck);
  f->set_no_healthy_upstream(flags & kNoHealthyUpstream);
  f->set_upstream_request_timeout(flags & kUpstreamRequestTimeout);
  f->set_local_reset(flags & kLocalReset);
  f->set_upstream_remote_reset(flags & kUpstreamRemoteReset);
  f->set_upstream_connection_failure(flags & kUpstreamConnectionFailure);
  f->set_upstream_connection_termination(flags & kUpstreamConnectionTermination);
  f->set_upstream_overflow(flags & kUpstreamOverflow);
  f->set_no_route_found(flags & kNoRouteFound);
  f->set_delay_injected(flags & kDelayInjected);
  f->set_fault_injected(flags & kFaultInjected);
  f->set_rate_limited(flags & kRateLimited);
  f->set_downstream_connection_termination(flags & kDownstreamConnectionTermination);
  f->set_upstream_protocol_error(flags & kUpstreamProtocolError);
  f->set_no_cluster_found(flags & kNoClusterFound);
  f->set_stream_idle_timeout(flags & kStreamIdleTimeout);
  f->set_downstream_protocol_error(flags & kDownstreamProtocolError);
  f->set_duration_timeout(flags & kDurationTimeout);
}

envoy::config::core::v3::RequestMethod methodOf(std::string_view m) {
  static constexpr std::pair<std::string_view, envoy::config::core::v3::RequestMethod> kMethods[] = {
      {"GET", envoy::config::core::v3::GET},         {"HEAD", envoy::config::core::v3::HEAD},
      {"POST", envoy::config::core::v3::POST},       {"PUT", envoy::config::core::v3::PUT},
      {"DELETE", envoy::config::core::v3::DELETE},   {"CONNECT", envoy::config::core::v3::CONNECT},
      {"OPTIONS", envoy::config::core::v3::OPTIONS}, {"TRACE", envoy::config::core::v3::TRACE},
      {"PATCH", envoy::config::core::v3::PATCH},
  };
  for (const auto& [name, value] : kMethods) {
    if (name == m) return value;
  }
  return envoy::config::core::v3::METHOD_UNSPECIFIED;
}

void copyHeader(const http::HeaderMap& headers, std::string_view name, std::string* out) {
  if (const auto v = headers.get(name)) out->assign(v->data(), v->size());
}

}  // namespace

void buildHttpEntry(const LogContext& c, const HttpEntryFields& fields, HTTPAccessLogEntry& entry) {
  entry.Clear();
  const StreamInfo& info = c.info;
  auto* common = entry.mutable_common_properties();
  // The client as the connection manager trusts it (x-forwarded-for: no port), and the peer.
  const auto& client = info.downstream_client;
  if (!client.address.is_unspecified()) {
    setAddress(client.address, client.from_xff ? 0 : info.downstream_remote.port(),
               *common->mutable_downstream_remote_address());
  } else {
    setAddress(info.downstream_remote.address(), info.downstream_remote.port(),
               *common->mutable_downstream_remote_address());
  }
  setAddress(info.downstream_remote.address(), info.downstream_remote.port(),
             *common->mutable_downstream_direct_remote_address());
  setAddress(info.downstream_local.address(), info.downstream_local.port(),
             *common->mutable_downstream_local_address());
  const auto since_epoch = c.start_time.time_since_epoch();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
  common->mutable_start_time()->set_seconds(ns / 1'000'000'000);
  common->mutable_start_time()->set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  const StreamInfo::Clock::time_point none;
  if (info.request_complete != none) {
    setDuration(info.request_complete - info.start, *common->mutable_time_to_last_rx_byte());
  }
  if (info.first_upstream_byte != none) {
    setDuration(info.first_upstream_byte - info.start, *common->mutable_time_to_first_upstream_rx_byte());
  }
  if (c.now != none) setDuration(c.now - info.start, *common->mutable_time_to_last_downstream_tx_byte());
  if (!info.upstream_host.empty()) setHostAddress(info.upstream_host, *common->mutable_upstream_remote_address());
  if (info.upstream_local.port() != 0) {
    setAddress(info.upstream_local.address(), info.upstream_local.port(), *common->mutable_upstream_local_address());
  }
  if (!info.upstream_cluster.empty()) common->set_upstream_cluster(info.upstream_cluster);
  if (!info.route_name.empty()) common->set_route_name(info.route_name);
  setFlags(info.response_flags, *common);

  entry.set_protocol_version(c.http_minor == 0 ? HTTPAccessLogEntry::HTTP10 : HTTPAccessLogEntry::HTTP11);
  auto* request = entry.mutable_request();
  request->set_request_method(methodOf(c.method));
  request->set_scheme(info.downstream_tls != nullptr ? "https" : "http");
  if (!c.path.empty()) request->set_path(std::string(c.path));
  request->set_request_body_bytes(info.bytes_received);
  if (c.request_headers != nullptr) {
    const auto& h = *c.request_headers;
    copyHeader(h, "host", request->mutable_authority());
    copyHeader(h, "user-agent", request->mutable_user_agent());
    copyHeader(h, "referer", request->mutable_referer());
    copyHeader(h, "x-forwarded-for", request->mutable_forwarded_for());
    copyHeader(h, "x-request-id", request->mutable_request_id());
    copyHeader(h, "x-envoy-original-path", request->mutable_original_path());
    request->set_request_headers_bytes(h.byteSize());
    for (const auto& name : fields.request_headers) {
      if (const auto v = h.get(name)) (*request->mutable_request_headers())[name] = std::string(*v);
    }
  }
  auto* response = entry.mutable_response();
  if (info.response_code != 0) response->mutable_response_code()->set_value(static_cast<uint32_t>(info.response_code));
  response->set_response_body_bytes(info.bytes_sent);
  if (!info.response_code_details.empty()) response->set_response_code_details(std::string(info.response_code_details));
  if (c.response_headers != nullptr) {
    const auto& h = *c.response_headers;
    response->set_response_headers_bytes(h.byteSize());
    for (const auto& name : fields.response_headers) {
      if (const auto v = h.get(name)) (*response->mutable_response_headers())[name] = std::string(*v);
    }
  }
}

}  // namespace sluice::accesslog
