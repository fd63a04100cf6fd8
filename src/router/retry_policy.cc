#include "router/retry_policy.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "router/request.h"

// Fields sluice does not implement never reach this file: the supported-subset
// gate (config/supported_fields.cc) rejects them by path (retry_priority,
// retry_options_predicates, rate_limited_retry_back_off,
// retriable_request_headers, host predicates other than previous_hosts).

namespace sluice::router {

using config::childPath;
using config::indexPath;

namespace {

constexpr std::array<std::pair<std::string_view, uint32_t>, 8> kConditions{{
    {"5xx", retry_on::k5xx},
    {"gateway-error", retry_on::kGatewayError},
    {"reset", retry_on::kReset},
    {"connect-failure", retry_on::kConnectFailure},
    {"retriable-4xx", retry_on::kRetriable4xx},
    {"refused-stream", retry_on::kRefusedStream},
    {"retriable-status-codes", retry_on::kRetriableStatusCodes},
    {"retriable-headers", retry_on::kRetriableHeaders},
}};

// Each pick runs the load balancer: a bound on the work one retry may cause.
constexpr int64_t kMaxHostSelectionAttempts = 1000;

constexpr std::string_view kPreviousHosts = "envoy.retry_host_predicates.previous_hosts";

std::chrono::milliseconds toMilliseconds(const google::protobuf::Duration& duration) {
  return std::chrono::milliseconds(duration.seconds() * 1000 + duration.nanos() / 1'000'000);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

uint32_t parseRetryOn(std::string_view list, std::string_view* unknown) {
  uint32_t out = 0;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view name = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (name.empty()) continue;
    const auto it =
        std::find_if(kConditions.begin(), kConditions.end(), [&](const auto& c) { return c.first == name; });
    if (it != kConditions.end()) {
      out |= it->second;
    } else if (unknown != nullptr && unknown->empty()) {
      *unknown = name;
    }
  }
  return out;
}

std::shared_ptr<const RetryPolicy> RetryPolicy::build(const Proto& config, std::string_view path,
                                                      config::ErrorList& errors) {
  const size_t errors_before = errors.size();
  std::shared_ptr<RetryPolicy> out(new RetryPolicy());
  std::string_view unknown;
  out->retry_on_ = parseRetryOn(config.retry_on(), &unknown);
  if (!unknown.empty()) {
    errors.add(childPath(path, "retry_on"),
               "'" + std::string(unknown) +
                   "' is not supported by sluice (supported: 5xx, gateway-error, reset, connect-failure, "
                   "retriable-4xx, refused-stream, retriable-status-codes, retriable-headers)");
  }
  if (config.has_num_retries()) out->num_retries_ = config.num_retries().value();
  if (config.has_per_try_timeout()) out->per_try_timeout_ = toMilliseconds(config.per_try_timeout());
  if (config.has_per_try_idle_timeout()) out->per_try_idle_timeout_ = toMilliseconds(config.per_try_idle_timeout());
  if (config.has_retry_back_off()) {
    const auto& back_off = config.retry_back_off();
    const std::string back_off_path = childPath(path, "retry_back_off");
    out->base_interval_ = toMilliseconds(back_off.base_interval());
    if (out->base_interval_.count() <= 0) {
      errors.add(childPath(back_off_path, "base_interval"), "must be at least 1ms");
    }
    out->max_interval_ =
        back_off.has_max_interval() ? toMilliseconds(back_off.max_interval()) : out->base_interval_ * 10;
    if (back_off.has_max_interval() && out->max_interval_ < out->base_interval_) {
      errors.add(childPath(back_off_path, "max_interval"), "must be greater than or equal to base_interval");
    }
  }
  for (int i = 0; i < config.retry_host_predicate_size(); ++i) {
    const auto& predicate = config.retry_host_predicate(i);
    if (predicate.name() != kPreviousHosts) {
      errors.add(
          childPath(indexPath(childPath(path, "retry_host_predicate"), i), "name"),
          "'" + predicate.name() + "' is not supported by sluice (supported: " + std::string(kPreviousHosts) + ")");
      continue;
    }
    out->previous_hosts_ = true;
  }
  if (config.host_selection_retry_max_attempts() < 0) {
    errors.add(childPath(path, "host_selection_retry_max_attempts"), "must not be negative");
  } else if (config.host_selection_retry_max_attempts() > kMaxHostSelectionAttempts) {
    errors.add(childPath(path, "host_selection_retry_max_attempts"),
               "must be at most " + std::to_string(kMaxHostSelectionAttempts));
  } else if (config.host_selection_retry_max_attempts() > 0) {
    out->host_selection_max_attempts_ = static_cast<uint32_t>(config.host_selection_retry_max_attempts());
  }
  for (int i = 0; i < config.retriable_status_codes_size(); ++i) {
    const uint32_t code = config.retriable_status_codes(i);
    if (code < 100 || code > 599) {
      errors.add(indexPath(childPath(path, "retriable_status_codes"), i), "must be an HTTP status code (100-599)");
      continue;
    }
    out->retriable_status_codes_.push_back(code);
  }
  for (int i = 0; i < config.retriable_headers_size(); ++i) {
    if (auto matcher = HeaderMatcher::build(config.retriable_headers(i),
                                            indexPath(childPath(path, "retriable_headers"), i), errors)) {
      out->retriable_headers_.push_back(std::move(*matcher));
    }
  }
  if (errors.size() != errors_before) return nullptr;
  return out;
}

bool RetryPolicy::retriableResponse(uint32_t conditions, int status, const http::HeaderMap& headers) const {
  if ((conditions & retry_on::k5xx) != 0 && status >= 500 && status < 600) return true;
  if ((conditions & retry_on::kGatewayError) != 0 && (status == 502 || status == 503 || status == 504)) return true;
  if ((conditions & retry_on::kRetriable4xx) != 0 && status == 409) return true;
  if ((conditions & retry_on::kRetriableStatusCodes) != 0 &&
      std::find(retriable_status_codes_.begin(), retriable_status_codes_.end(), static_cast<uint32_t>(status)) !=
          retriable_status_codes_.end()) {
    return true;
  }
  if ((conditions & retry_on::kRetriableHeaders) != 0 && !retriable_headers_.empty()) {
    const RequestView view{"", "", "", "", headers, ""};
    for (const auto& matcher : retriable_headers_) {
      if (matcher.matches(view)) return true;
    }
  }
  return false;
}

const RetryPolicy& defaultRetryPolicy() {
  // Immutable after its first use (C++ guarantees a thread-safe initialisation).
  static const std::shared_ptr<const RetryPolicy> kDefault = [] {
    config::ErrorList errors;
    return RetryPolicy::build(RetryPolicy::Proto(), "", errors);
  }();
  return *kDefault;
}

}  // namespace sluice::router
