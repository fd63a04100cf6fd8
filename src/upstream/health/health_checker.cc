#include "upstream/health/health_checker.h"

#include <google/protobuf/util/time_util.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>

#include "common/json_escape.h"
#include "http/http1_body.h"
#include "http/http1_parser.h"
#include "log/logger.h"

namespace sluice::upstream::health {

namespace {

using google::protobuf::util::TimeUtil;
using network::kNoThrow;

Millis millis(const google::protobuf::Duration& d) { return Millis(TimeUtil::DurationToMilliseconds(d)); }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Hex text to bytes; validation made sure it is even and hex.
std::string fromHex(std::string_view text) {
  std::string out;
  auto nibble = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10);
  };
  for (size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<char>(nibble(text[i]) * 16 + nibble(text[i + 1])));
  return out;
}

std::string payload(const envoy::config::core::v3::HealthCheck::Payload& p) {
  return p.has_text() || !p.text().empty() ? fromHex(p.text()) : p.binary();
}

// Closed by the peer (or broken) while idle: a reused connection that would fail its next check for nothing.
bool peerClosed(network::Tcp::socket& socket) {
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || n > 0;
}

std::string nowIso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buffer;
}

}  // namespace

HealthCheckSpec compileHealthCheck(const envoy::config::core::v3::HealthCheck& check, const std::string& cluster) {
  HealthCheckSpec out;
  Timing& t = out.timing;
  t.timeout = millis(check.timeout());
  t.interval = millis(check.interval());
  t.unhealthy_interval = check.has_unhealthy_interval() ? millis(check.unhealthy_interval()) : t.interval;
  t.unhealthy_edge_interval =
      check.has_unhealthy_edge_interval() ? millis(check.unhealthy_edge_interval()) : t.unhealthy_interval;
  t.healthy_edge_interval = check.has_healthy_edge_interval() ? millis(check.healthy_edge_interval()) : t.interval;
  if (check.has_no_traffic_interval()) t.no_traffic_interval = millis(check.no_traffic_interval());
  t.no_traffic_healthy_interval =
      check.has_no_traffic_healthy_interval() ? millis(check.no_traffic_healthy_interval()) : t.no_traffic_interval;
  if (check.has_interval_jitter()) t.interval_jitter = millis(check.interval_jitter());
  if (check.has_initial_jitter()) t.initial_jitter = millis(check.initial_jitter());
  t.interval_jitter_percent = check.interval_jitter_percent();
  t.unhealthy_threshold = std::max<uint32_t>(1, check.unhealthy_threshold().value());
  t.healthy_threshold = std::max<uint32_t>(1, check.healthy_threshold().value());
  out.reuse_connection = !check.has_reuse_connection() || check.reuse_connection().value();
  out.always_log_failures = check.always_log_health_check_failures();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  out.event_log_path = check.event_log_path();  // deprecated in Envoy for event_logger, still honoured
#pragma GCC diagnostic pop
  if (check.has_http_health_check()) {
    const auto& http = check.http_health_check();
    out.kind = HealthCheckSpec::Kind::Http;
    out.path = http.path();
    out.host = http.host().empty() ? cluster : http.host();
    if (http.expected_statuses_size() > 0) {
      out.expected.clear();
      for (const auto& r : http.expected_statuses()) out.expected.push_back({r.start(), r.end()});
    }
    for (const auto& r : http.retriable_statuses()) out.retriable.push_back({r.start(), r.end()});
    for (const auto& h : http.request_headers_to_add()) {
      std::string name = lower(h.header().key());
      if (h.header().value().empty() && !h.keep_empty_value()) continue;
      auto& list = out.headers_to_add;
      const auto same = [&name](const auto& field) { return field.first == name; };
      using Option = envoy::config::core::v3::HeaderValueOption;
      const bool exists = std::any_of(list.begin(), list.end(), same);
      if (h.append_action() == Option::ADD_IF_ABSENT && exists) continue;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      const bool append_false = h.has_append() && !h.append().value();  // deprecated, still honoured
#pragma GCC diagnostic pop
      const bool overwrite = h.append_action() == Option::OVERWRITE_IF_EXISTS_OR_ADD ||
                             h.append_action() == Option::OVERWRITE_IF_EXISTS || append_false;
      if (h.append_action() == Option::OVERWRITE_IF_EXISTS && !exists) continue;
      if (overwrite) list.erase(std::remove_if(list.begin(), list.end(), same), list.end());
      list.emplace_back(std::move(name), h.header().value());
    }
    for (const auto& name : http.request_headers_to_remove()) out.headers_to_remove.push_back(lower(name));
  } else {
    out.kind = HealthCheckSpec::Kind::Tcp;
    const auto& tcp = check.tcp_health_check();
    if (tcp.has_send()) out.send = payload(tcp.send());
    for (const auto& r : tcp.receive()) out.receive.push_back(payload(r));
  }
  return out;
}

HealthCheckStats::HealthCheckStats(stats::Store& store, const std::string& cluster_stat_name)
    : attempt(store.counter("cluster." + cluster_stat_name + ".health_check.attempt")),
      success(store.counter("cluster." + cluster_stat_name + ".health_check.success")),
      failure(store.counter("cluster." + cluster_stat_name + ".health_check.failure")),
      network_failure(store.counter("cluster." + cluster_stat_name + ".health_check.network_failure")),
      passive_failure(store.counter("cluster." + cluster_stat_name + ".health_check.passive_failure")),
      verify_cluster(store.counter("cluster." + cluster_stat_name + ".health_check.verify_cluster")),
      healthy(store.gauge("cluster." + cluster_stat_name + ".health_check.healthy")) {}

bool payloadsMatch(const std::vector<std::string>& payloads, std::string_view received) {
  size_t from = 0;
  for (const auto& p : payloads) {
    const size_t at = received.find(p, from);
    if (at == std::string_view::npos) return false;
    from = at + p.size();
  }
  return true;
}

// One host's checks. Lives as long as its coroutine or its checker holds it.
class ClusterHealthChecker::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ClusterHealthChecker& parent, HostPtr host)
      : parent_(&parent),
        host_(std::move(host)),
        socket_(parent.executor_),
        wait_(parent.executor_),
        deadline_(parent.executor_) {}

  void start(Millis delay) { asio::co_spawn(parent_->executor_, run(shared_from_this(), delay), asio::detached); }
  void stop() {
    parent_ = nullptr;
    wait_.cancel();
    deadline_.cancel();
    closeSocket();
  }
  const HostPtr& host() const { return host_; }
  HostCheckState state;

 private:
  static asio::awaitable<void> run(std::shared_ptr<Session> self, Millis delay) {
    if (delay.count() > 0 && !co_await self->sleep(delay)) co_return;
    while (self->parent_ != nullptr) {
      self->parent_->stats_->attempt.inc();
      const Result result = co_await self->check();
      if (self->parent_ == nullptr) co_return;
      const bool had_traffic = self->parent_->callbacks_.had_traffic && self->parent_->callbacks_.had_traffic();
      const Transition transition = self->parent_->record(*self, result);
      if (self->parent_ == nullptr) co_return;  // the callbacks may have stopped this session
      const Millis wait =
          nextInterval(self->parent_->spec_.timing, result.success, transition, had_traffic, self->parent_->random_);
      if (!co_await self->sleep(wait)) co_return;
    }
  }

  asio::awaitable<bool> sleep(Millis delay) {
    wait_.expires_after(delay);
    auto [ec] = co_await wait_.async_wait(kNoThrow);
    co_return !ec && parent_ != nullptr;
  }

  void closeSocket() {
    std::error_code ignored;
    socket_.close(ignored);
    in_.clear();
  }

  // One check with its timeout: the deadline closes the socket, which ends
  // whatever I/O is pending.
  asio::awaitable<Result> check() {
    const uint64_t probe = ++probe_;
    timed_out_ = false;
    deadline_.expires_after(parent_->spec_.timing.timeout);
    deadline_.async_wait([weak = weak_from_this(), probe](const std::error_code& ec) {
      const auto self = weak.lock();
      if (ec || !self || self->probe_ != probe) return;
      self->timed_out_ = true;
      self->closeSocket();
    });
    Result result = parent_->spec_.kind == HealthCheckSpec::Kind::Http ? co_await checkHttp() : co_await checkTcp();
    ++probe_;
    deadline_.cancel();
    if (parent_ == nullptr) co_return result;
    // An I/O failure because the deadline closed the socket is a timeout; a verdict stands.
    if (!result.success && result.type == FailureType::Network && timed_out_) {
      result = {false, FailureType::NetworkTimeout, false};
    }
    if (!result.success || !parent_->spec_.reuse_connection) closeSocket();
    co_return result;
  }

  // Connected, reusing the open connection when the peer did not close it.
  asio::awaitable<bool> connect() {
    if (socket_.is_open() && !peerClosed(socket_)) co_return true;
    closeSocket();
    std::error_code ec;
    const auto address = asio::ip::make_address(host_->address, ec);
    if (ec) co_return false;
    auto [error] = co_await socket_.async_connect(network::Tcp::endpoint(address, host_->port), kNoThrow);
    if (error || parent_ == nullptr) co_return false;
    socket_.set_option(network::Tcp::no_delay(true), ec);
    co_return true;
  }

  asio::awaitable<bool> write(std::string_view data) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()), kNoThrow);
    co_return !ec && parent_ != nullptr;
  }

  // Appends what the peer sends next to in_; false at EOF, error or stop.
  asio::awaitable<bool> readMore() {
    std::array<char, 4096> chunk;
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(chunk), kNoThrow);
    if (ec || parent_ == nullptr) co_return false;
    in_.append(chunk.data(), n);
    co_return true;
  }

  asio::awaitable<Result> checkTcp() {
    constexpr Result kNetwork{false, FailureType::Network, false};
    if (!co_await connect()) co_return kNetwork;
    const HealthCheckSpec& spec = parent_->spec_;
    if (!spec.send.empty() && !co_await write(spec.send)) co_return kNetwork;
    in_.clear();
    while (!payloadsMatch(spec.receive, in_)) {
      if (in_.size() > 64 * 1024 || !co_await readMore()) co_return kNetwork;
    }
    in_.clear();
    co_return Result{true};
  }

  asio::awaitable<Result> checkHttp() {
    constexpr Result kNetwork{false, FailureType::Network, false};
    if (!co_await connect()) co_return kNetwork;
    const HealthCheckSpec& spec = parent_->spec_;
    if (!co_await write(requestHead(spec))) co_return kNetwork;
    // The response head, skipping interim responses.
    http::http1::Limits limits;
    http::http1::ResponseHead head;
    for (;;) {
      const auto parsed = http::http1::parseResponseHead(in_, limits, head);
      if (parsed.status == http::http1::ParseStatus::Error) co_return Result{false, FailureType::Active, false};
      if (parsed.status == http::http1::ParseStatus::Complete) {
        in_.erase(0, parsed.consumed);
        if (head.status >= 100 && head.status < 200) continue;
        break;
      }
      if (!co_await readMore()) co_return kNetwork;
    }
    const Result result = verdict(spec, head);
    // Keep the connection only when its next response can be found: the body read to its end.
    const bool keep = spec.reuse_connection && head.version_minor == 1 && !hasClose(head);
    if (!keep) {
      closeSocket();
      co_return result;
    }
    auto framing = http::http1::responseFraming(head, "GET", limits);
    if (!framing.ok || framing.framing.kind == http::http1::Framing::Kind::UntilClose) {
      closeSocket();
      co_return result;
    }
    http::http1::BodyDecoder decoder(limits);
    decoder.reset(framing.framing);
    const bool empty =
        framing.framing.kind == http::http1::Framing::Kind::None ||
        (framing.framing.kind == http::http1::Framing::Kind::ContentLength && framing.framing.length == 0);
    while (!empty) {
      const auto step = decoder.decode(in_);
      if (step.error) {
        closeSocket();
        co_return result;
      }
      in_.erase(0, step.consumed);
      if (step.done) break;
      if (step.consumed > 0 || !step.data.empty()) continue;
      // The verdict stands whatever happens to the rest of the body.
      if (in_.size() > 64 * 1024 || !co_await readMore()) {
        closeSocket();
        co_return result;
      }
    }
    co_return result;
  }

  static bool hasClose(const http::http1::ResponseHead& head) {
    const auto connection = head.headers.get("connection");
    return connection && lower(std::string(*connection)).find("close") != std::string::npos;
  }

  Result verdict(const HealthCheckSpec& spec, const http::http1::ResponseHead& head) {
    const auto in = [&](const std::vector<StatusRange>& ranges) {
      return std::any_of(ranges.begin(), ranges.end(), [&](const StatusRange& r) { return r.contains(head.status); });
    };
    if (in(spec.expected)) return Result{true};
    // Envoy: a failing status with the header also excludes the host from load balancing.
    if (head.headers.has("x-envoy-immediate-health-check-fail"))
      host_->setHealthFlag(kExcludedViaImmediateHcFail, true);
    return Result{false, FailureType::Active, in(spec.retriable)};
  }

  std::string requestHead(const HealthCheckSpec& spec) const {
    std::vector<std::pair<std::string, std::string>> fields{{"host", spec.host}, {"user-agent", "Envoy/HC"}};
    if (!spec.reuse_connection) fields.emplace_back("connection", "close");
    for (const auto& field : spec.headers_to_add) fields.push_back(field);
    std::string out = "GET " + spec.path + " HTTP/1.1\r\n";
    for (const auto& [name, value] : fields) {
      // request_headers_to_remove cannot remove the Host (Envoy: not the pseudo-headers).
      if (name != "host" &&
          std::find(spec.headers_to_remove.begin(), spec.headers_to_remove.end(), name) != spec.headers_to_remove.end())
        continue;
      out += name + ": " + value + "\r\n";
    }
    return out + "\r\n";
  }

  ClusterHealthChecker* parent_;  // null once stopped
  HostPtr host_;
  network::Tcp::socket socket_;
  asio::steady_timer wait_;
  asio::steady_timer deadline_;
  std::string in_;
  uint64_t probe_ = 0;
  bool timed_out_ = false;
};

namespace {

class Monitor final : public proxy::HostHealthMonitor {
 public:
  Monitor(asio::any_io_executor executor, std::weak_ptr<ClusterHealthChecker> checker)
      : executor_(std::move(executor)), checker_(std::move(checker)) {}
  void immediateFailure(const std::string& address_string) const override {
    asio::post(executor_, [checker = checker_, address_string] {
      if (const auto c = checker.lock()) c->immediateFailure(address_string);
    });
  }

 private:
  asio::any_io_executor executor_;
  std::weak_ptr<ClusterHealthChecker> checker_;
};

}  // namespace

ClusterHealthChecker::ClusterHealthChecker(asio::any_io_executor executor, std::string cluster, HealthCheckSpec spec,
                                           std::shared_ptr<HealthCheckStats> stats, Callbacks callbacks)
    : executor_(std::move(executor)),
      cluster_(std::move(cluster)),
      spec_(std::move(spec)),
      stats_(std::move(stats)),
      callbacks_(std::move(callbacks)),
      random_(std::hash<std::string>{}(cluster_) ^
              static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {
  if (!spec_.event_log_path.empty()) {
    event_log_ = std::fopen(spec_.event_log_path.c_str(), "a");
    if (event_log_ == nullptr) {
      SLUICE_LOG(upstream, warn, "sluice: cluster '{}': cannot open health check event log '{}'", cluster_,
                 spec_.event_log_path);
    }
  }
}

ClusterHealthChecker::~ClusterHealthChecker() {
  stop();
  if (event_log_ != nullptr) std::fclose(event_log_);
}

void ClusterHealthChecker::stop() {
  for (auto& [host, session] : sessions_) session->stop();
  sessions_.clear();
}

std::shared_ptr<const proxy::HostHealthMonitor> ClusterHealthChecker::monitor() {
  return std::make_shared<Monitor>(executor_, weak_from_this());
}

void ClusterHealthChecker::setHosts(const HostSet& hosts) {
  std::unordered_map<const Host*, std::shared_ptr<Session>> next;
  for (const HostPtr& host : hosts.hosts()) {
    if (next.count(host.get())) continue;
    if (auto it = sessions_.find(host.get()); it != sessions_.end()) {
      next.emplace(host.get(), std::move(it->second));
      sessions_.erase(it);
      continue;
    }
    auto session = std::make_shared<Session>(*this, host);
    session->start(initialDelay(spec_.timing, random_));
    next.emplace(host.get(), std::move(session));
  }
  for (auto& [host, session] : sessions_) session->stop();
  sessions_ = std::move(next);
  countHealthy();
}

void ClusterHealthChecker::countHealthy() {
  int64_t healthy = 0;
  for (const auto& [host, session] : sessions_) healthy += (host->healthFlags() & kFailedActiveHc) == 0 ? 1 : 0;
  stats_->healthy.set(healthy);
}

void ClusterHealthChecker::immediateFailure(const std::string& address_string) {
  for (auto& [host, session] : sessions_) {
    if (host->address_string != address_string) continue;
    const uint32_t before = host->healthFlags();
    host->setHealthFlag(kExcludedViaImmediateHcFail, true);
    const uint32_t excluded = host->healthFlags();
    record(*session, Result{false, FailureType::Passive, false});
    // record() told the cluster manager if it changed a flag; else the exclusion alone is news.
    if (host->healthFlags() == excluded && excluded != before && callbacks_.health_changed) {
      countHealthy();
      callbacks_.health_changed();
    }
  }
}

Transition ClusterHealthChecker::record(Session& session, const Result& result) {
  const Host& host = *session.host();
  const uint32_t before = host.healthFlags();
  Outcome outcome;
  if (result.success) {
    outcome = session.state.onSuccess(host, spec_.timing);
    stats_->success.inc();
    if (callbacks_.passed) callbacks_.passed(session.host());
    if (outcome.added_healthy) {
      logEvent(host,
               std::string(R"("add_healthy_event":{)") + (outcome.first_check ? R"("first_check":true)" : "") + "}");
    }
  } else {
    outcome = session.state.onFailure(host, result.type, result.retriable, spec_.timing);
    stats_->failure.inc();
    if (result.type == FailureType::Network || result.type == FailureType::NetworkTimeout) {
      stats_->network_failure.inc();
    } else if (result.type == FailureType::Passive) {
      stats_->passive_failure.inc();
    }
    const std::string type = std::string(failureTypeName(result.type));
    if (outcome.ejected) logEvent(host, R"("eject_unhealthy_event":{"failure_type":")" + type + "\"}");
    if (outcome.first_check || spec_.always_log_failures) {
      logEvent(host, R"("health_check_failure_event":{"failure_type":")" + type + "\"" +
                         (outcome.first_check ? R"(,"first_check":true)" : "") + "}");
    }
    if (outcome.ejected || outcome.first_check || spec_.always_log_failures) {
      SLUICE_LOG(upstream, debug, "sluice: cluster '{}' host {} failed a health check ({})", cluster_,
                 host.address_string, type);
    }
  }
  if (host.healthFlags() != before) {
    countHealthy();
    if (callbacks_.health_changed) callbacks_.health_changed();
  }
  return outcome.transition;
}

void ClusterHealthChecker::logEvent(const Host& host, std::string_view event) {
  if (event_log_ == nullptr) return;
  std::string line = R"({"health_checker_type":")";
  line += spec_.kind == HealthCheckSpec::Kind::Http ? "HTTP" : "TCP";
  line += R"(","host":{"socket_address":{"address":")" + escapeJson(host.address) + R"(","port_value":)" +
          std::to_string(host.port) + R"(}},"cluster_name":")" + escapeJson(cluster_) + "\",";
  line.append(event);
  line += R"(,"timestamp":")" + nowIso8601() + "\"}\n";
  std::fwrite(line.data(), 1, line.size(), event_log_);
  std::fflush(event_log_);
}

}  // namespace sluice::upstream::health
