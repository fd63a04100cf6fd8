#include "upstream/outlier/outlier_detector.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sluice::upstream::outlier {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// Envoy's stat suffix of each type (ejections_enforced_<name>, ejections_detected_<name>).
constexpr const char* kTypeNames[kEjectionTypes] = {
    "consecutive_5xx",           "consecutive_gateway_failure", "consecutive_local_origin_failure", "success_rate",
    "local_origin_success_rate", "failure_percentage",          "failure_percentage_local_origin",
};
// Envoy's runtime key and the config's percentage for each type.
constexpr const char* kEnforcingKeys[kEjectionTypes] = {
    "outlier_detection.enforcing_consecutive_5xx",
    "outlier_detection.enforcing_consecutive_gateway_failure",
    "outlier_detection.enforcing_consecutive_local_origin_failure",
    "outlier_detection.enforcing_success_rate",
    "outlier_detection.enforcing_local_origin_success_rate",
    "outlier_detection.enforcing_failure_percentage",
    "outlier_detection.enforcing_failure_percentage_local_origin",
};

size_t index(EjectionType type) { return static_cast<size_t>(type); }

template <typename Wrapper>
uint32_t valueOr(bool has, const Wrapper& wrapper, uint32_t fallback) {
  return has ? wrapper.value() : fallback;
}

Millis millis(const google::protobuf::Duration& d) { return Millis(d.seconds() * 1000 + d.nanos() / 1000000); }

class Reporter final : public OutlierReporter {
 public:
  Reporter(asio::any_io_executor executor, std::weak_ptr<OutlierDetector> detector)
      : executor_(std::move(executor)), detector_(std::move(detector)) {}
  void consecutiveFailure(HostPtr host, ConsecutiveFailure kind) const override {
    // A cluster removed meanwhile has no detector: the weak pointer tells.
    asio::post(executor_, [detector = detector_, host = std::move(host), kind] {
      if (const auto d = detector.lock()) d->onConsecutiveFailure(host, kind, Clock::now());
    });
  }

 private:
  asio::any_io_executor executor_;
  std::weak_ptr<OutlierDetector> detector_;
};

}  // namespace

OutlierSettings compileOutlierDetection(const envoy::config::cluster::v3::OutlierDetection& p) {
  OutlierSettings s;
  s.thresholds.consecutive_5xx = valueOr(p.has_consecutive_5xx(), p.consecutive_5xx(), 5);
  s.thresholds.consecutive_gateway_failure =
      valueOr(p.has_consecutive_gateway_failure(), p.consecutive_gateway_failure(), 5);
  s.thresholds.consecutive_local_origin_failure =
      valueOr(p.has_consecutive_local_origin_failure(), p.consecutive_local_origin_failure(), 5);
  s.thresholds.split_external_local_origin_errors = p.split_external_local_origin_errors();
  if (p.has_interval()) s.interval = millis(p.interval());
  if (p.has_base_ejection_time()) s.base_ejection_time = millis(p.base_ejection_time());
  if (p.has_max_ejection_time()) s.max_ejection_time = millis(p.max_ejection_time());
  s.max_ejection_percent = valueOr(p.has_max_ejection_percent(), p.max_ejection_percent(), 10);
  s.enforcing_consecutive_5xx = valueOr(p.has_enforcing_consecutive_5xx(), p.enforcing_consecutive_5xx(), 100);
  s.enforcing_consecutive_gateway_failure =
      valueOr(p.has_enforcing_consecutive_gateway_failure(), p.enforcing_consecutive_gateway_failure(), 0);
  s.enforcing_consecutive_local_origin_failure =
      valueOr(p.has_enforcing_consecutive_local_origin_failure(), p.enforcing_consecutive_local_origin_failure(), 100);
  s.enforcing_success_rate = valueOr(p.has_enforcing_success_rate(), p.enforcing_success_rate(), 100);
  s.enforcing_local_origin_success_rate =
      valueOr(p.has_enforcing_local_origin_success_rate(), p.enforcing_local_origin_success_rate(), 100);
  s.enforcing_failure_percentage = valueOr(p.has_enforcing_failure_percentage(), p.enforcing_failure_percentage(), 0);
  s.enforcing_failure_percentage_local_origin =
      valueOr(p.has_enforcing_failure_percentage_local_origin(), p.enforcing_failure_percentage_local_origin(), 0);
  s.success_rate_minimum_hosts = valueOr(p.has_success_rate_minimum_hosts(), p.success_rate_minimum_hosts(), 5);
  s.success_rate_request_volume = valueOr(p.has_success_rate_request_volume(), p.success_rate_request_volume(), 100);
  s.success_rate_stdev_factor = valueOr(p.has_success_rate_stdev_factor(), p.success_rate_stdev_factor(), 1900);
  s.failure_percentage_threshold = valueOr(p.has_failure_percentage_threshold(), p.failure_percentage_threshold(), 85);
  s.failure_percentage_minimum_hosts =
      valueOr(p.has_failure_percentage_minimum_hosts(), p.failure_percentage_minimum_hosts(), 5);
  s.failure_percentage_request_volume =
      valueOr(p.has_failure_percentage_request_volume(), p.failure_percentage_request_volume(), 50);
  s.successful_active_health_check_uneject_host =
      !p.has_successful_active_health_check_uneject_host() || p.successful_active_health_check_uneject_host().value();
  return s;
}

OutlierDetectionStats::OutlierDetectionStats(stats::Store& store, const std::string& cluster)
    : ejections_enforced_total(store.counter("cluster." + cluster + ".outlier_detection.ejections_enforced_total")),
      ejections_active(store.gauge("cluster." + cluster + ".outlier_detection.ejections_active")),
      ejections_overflow(store.counter("cluster." + cluster + ".outlier_detection.ejections_overflow")) {
  for (size_t i = 0; i < kEjectionTypes; ++i) {
    const std::string prefix = "cluster." + cluster + ".outlier_detection.ejections_";
    enforced[i] = &store.counter(prefix + "enforced_" + kTypeNames[i]);
    detected[i] = &store.counter(prefix + "detected_" + kTypeNames[i]);
  }
}

OutlierDetector::OutlierDetector(OutlierSettings settings, std::shared_ptr<OutlierDetectionStats> stats,
                                 Callbacks callbacks)
    : settings_(settings), stats_(std::move(stats)), callbacks_(std::move(callbacks)) {}

void OutlierDetector::setHosts(const HostSet& hosts) {
  std::unordered_map<const Host*, HostState> next;
  for (const HostPtr& host : hosts.hosts()) {
    if (auto it = hosts_.find(host.get()); it != hosts_.end()) {
      next.emplace(host.get(), std::move(it->second));
      hosts_.erase(it);
    } else if (!next.count(host.get())) {
      HostState state;
      state.host = host;
      next.emplace(host.get(), std::move(state));
    }
  }
  // Hosts that left: an ejected one no longer counts as active.
  for (auto& [host, state] : hosts_) {
    if (state.ejected_at) {
      --ejected_;
      stats_->ejections_active.dec();
      host->setHealthFlag(kFailedOutlierCheck, false);
    }
  }
  hosts_ = std::move(next);
}

uint64_t OutlierDetector::runtimeInteger(const char* key, uint64_t fallback) const {
  const auto snapshot = callbacks_.runtime ? callbacks_.runtime() : nullptr;
  return snapshot ? snapshot->getInteger(key, fallback) : fallback;
}

bool OutlierDetector::enforced(EjectionType type) const {
  const uint32_t configured[kEjectionTypes] = {
      settings_.enforcing_consecutive_5xx,
      settings_.enforcing_consecutive_gateway_failure,
      settings_.enforcing_consecutive_local_origin_failure,
      settings_.enforcing_success_rate,
      settings_.enforcing_local_origin_success_rate,
      settings_.enforcing_failure_percentage,
      settings_.enforcing_failure_percentage_local_origin,
  };
  const uint64_t percent = runtimeInteger(kEnforcingKeys[index(type)], configured[index(type)]);
  if (percent >= 100) return true;
  if (percent == 0) return false;
  return (callbacks_.random ? callbacks_.random() : 0) % 100 < percent;
}

void OutlierDetector::onConsecutiveFailure(const HostPtr& host, ConsecutiveFailure kind, Clock::time_point now) {
  const auto it = hosts_.find(host.get());
  if (it == hosts_.end() || it->second.ejected_at) return;  // gone meanwhile, or already ejected
  const EjectionType type = kind == ConsecutiveFailure::FiveXx           ? EjectionType::Consecutive5xx
                            : kind == ConsecutiveFailure::GatewayFailure ? EjectionType::ConsecutiveGatewayFailure
                                                                         : EjectionType::ConsecutiveLocalOriginFailure;
  stats_->detected[index(type)]->inc();
  changed_ = false;
  eject(it->second, type, now);
  // A new streak starts from 0 even without a success in between (Envoy).
  auto& counters = host->outlier;
  (kind == ConsecutiveFailure::FiveXx           ? counters.consecutive_5xx
   : kind == ConsecutiveFailure::GatewayFailure ? counters.consecutive_gateway_failure
                                                : counters.consecutive_local_origin_failure)
      .store(0, kRelaxed);
  if (changed_ && callbacks_.changed) callbacks_.changed();
}

void OutlierDetector::eject(HostState& state, EjectionType type, Clock::time_point now) {
  const uint64_t max_percent =
      std::min<uint64_t>(100, runtimeInteger("outlier_detection.max_ejection_percent", settings_.max_ejection_percent));
  // Envoy's rule: the hosts ejected before this one, against the limit.
  const double ejected_percent = 100.0 * ejected_ / static_cast<double>(hosts_.size());
  if (!(ejected_percent < static_cast<double>(max_percent))) {
    stats_->ejections_overflow.inc();
    return;
  }
  if (!enforced(type)) return;
  ++ejected_;
  stats_->ejections_active.inc();
  stats_->ejections_enforced_total.inc();
  stats_->enforced[index(type)]->inc();
  ++state.num_ejections;
  // The time doubles (triples, ...) with each ejection in a row, up to max_ejection_time.
  if (settings_.base_ejection_time * state.backoff <
      std::max(settings_.max_ejection_time, settings_.base_ejection_time)) {
    ++state.backoff;
  }
  state.ejected_at = now;
  state.host->setHealthFlag(kFailedOutlierCheck, true);
  changed_ = true;
}

void OutlierDetector::returnIfDue(HostState& state, Clock::time_point now) {
  if (!state.ejected_at) {
    // Healthy for one more interval: the next ejection is shorter.
    if (state.backoff > 0) --state.backoff;
    return;
  }
  const Millis time = std::min(settings_.base_ejection_time * state.backoff,
                               std::max(settings_.max_ejection_time, settings_.base_ejection_time));
  if (now - *state.ejected_at < time) return;
  returnHost(state);
}

void OutlierDetector::onActiveCheckPassed(const HostPtr& host) {
  if (!settings_.successful_active_health_check_uneject_host) return;
  const auto it = hosts_.find(host.get());
  if (it == hosts_.end() || !it->second.ejected_at) return;
  returnHost(it->second);
  if (callbacks_.changed) callbacks_.changed();
}

void OutlierDetector::returnHost(HostState& state) {
  state.ejected_at.reset();
  --ejected_;
  stats_->ejections_active.dec();
  state.host->setHealthFlag(kFailedOutlierCheck, false);
  // A streak close to its threshold would eject again at once (Envoy resets them too).
  auto& counters = state.host->outlier;
  counters.consecutive_5xx.store(0, kRelaxed);
  counters.consecutive_gateway_failure.store(0, kRelaxed);
  counters.consecutive_local_origin_failure.store(0, kRelaxed);
  changed_ = true;
}

void OutlierDetector::runInterval(Clock::time_point now) {
  changed_ = false;
  for (auto& [host, state] : hosts_) {
    returnIfDue(state, now);
    state.success_rate[0] = state.success_rate[1] = -1;
  }
  rateEjections(false, now);
  rateEjections(true, now);
  if (changed_ && callbacks_.changed) callbacks_.changed();
}

void OutlierDetector::rateEjections(bool local_origin, Clock::time_point now) {
  const size_t which = local_origin ? 1 : 0;
  sr_average_[which] = sr_threshold_[which] = -1;
  struct Sample {
    HostState* state;
    double rate;  // successes in percent
    uint64_t volume;
  };
  std::vector<Sample> samples;
  samples.reserve(hosts_.size());
  for (auto& [host, state] : hosts_) {
    // The interval's bucket, read and reset in one step.
    const uint64_t bucket = (local_origin ? host->outlier.local : host->outlier.external).exchange(0, kRelaxed);
    const uint64_t requests = bucket >> 32;
    const uint64_t successes = bucket & 0xffffffffu;
    if (state.ejected_at || requests == 0) continue;  // an ejected host is not judged again
    samples.push_back({&state, 100.0 * static_cast<double>(successes) / static_cast<double>(requests), requests});
  }
  // Without the split, every result is external: no local-origin judgement.
  if (local_origin && !settings_.thresholds.split_external_local_origin_errors) return;

  const uint64_t fp_volume = runtimeInteger("outlier_detection.failure_percentage_request_volume",
                                            settings_.failure_percentage_request_volume);
  const uint64_t fp_min_hosts =
      runtimeInteger("outlier_detection.failure_percentage_minimum_hosts", settings_.failure_percentage_minimum_hosts);
  const uint64_t fp_threshold =
      runtimeInteger("outlier_detection.failure_percentage_threshold", settings_.failure_percentage_threshold);
  const uint64_t sr_volume =
      runtimeInteger("outlier_detection.success_rate_request_volume", settings_.success_rate_request_volume);
  const uint64_t sr_min_hosts =
      runtimeInteger("outlier_detection.success_rate_minimum_hosts", settings_.success_rate_minimum_hosts);
  const double stdev_factor = static_cast<double>(runtimeInteger("outlier_detection.success_rate_stdev_factor",
                                                                 settings_.success_rate_stdev_factor)) /
                              1000.0;

  // Failure percentage: a host failing at least `threshold` percent of its requests.
  const auto fp_valid = static_cast<uint64_t>(
      std::count_if(samples.begin(), samples.end(), [&](const Sample& s) { return s.volume >= fp_volume; }));
  if (fp_valid > 0 && fp_valid >= fp_min_hosts) {
    const EjectionType type =
        local_origin ? EjectionType::FailurePercentageLocalOrigin : EjectionType::FailurePercentage;
    for (const Sample& s : samples) {
      if (s.volume < fp_volume || s.state->ejected_at) continue;
      if (100.0 - s.rate >= static_cast<double>(fp_threshold)) {
        stats_->detected[index(type)]->inc();
        eject(*s.state, type, now);
      }
    }
  }

  // Success rate: a host below the mean by more than stdev_factor standard deviations.
  std::vector<Sample> valid;
  for (const Sample& s : samples) {
    if (s.volume < sr_volume) continue;
    valid.push_back(s);
    s.state->success_rate[which] = s.rate;
  }
  if (valid.empty() || valid.size() < sr_min_hosts) return;
  double sum = 0;
  for (const Sample& s : valid) sum += s.rate;
  const double mean = sum / static_cast<double>(valid.size());
  double variance = 0;
  for (const Sample& s : valid) variance += (s.rate - mean) * (s.rate - mean);
  variance /= static_cast<double>(valid.size());
  const double threshold = mean - stdev_factor * std::sqrt(variance);
  sr_average_[which] = mean;
  sr_threshold_[which] = threshold;
  const EjectionType type = local_origin ? EjectionType::LocalOriginSuccessRate : EjectionType::SuccessRate;
  for (const Sample& s : valid) {
    if (s.rate < threshold && !s.state->ejected_at) {
      stats_->detected[index(type)]->inc();
      eject(*s.state, type, now);
    }
  }
}

double OutlierDetector::successRate(const Host& host) const {
  const auto it = hosts_.find(&host);
  return it == hosts_.end() ? -1 : it->second.success_rate[0];
}

double OutlierDetector::localOriginSuccessRate(const Host& host) const {
  const auto it = hosts_.find(&host);
  return it == hosts_.end() ? -1 : it->second.success_rate[1];
}

uint32_t OutlierDetector::ejectionCount(const Host& host) const {
  const auto it = hosts_.find(&host);
  return it == hosts_.end() ? 0 : it->second.num_ejections;
}

void OutlierDetector::start(asio::any_io_executor executor) {
  executor_ = executor;
  timer_ = std::make_unique<asio::steady_timer>(executor);
  armTimer();
}

void OutlierDetector::armTimer() {
  const Millis interval(runtimeInteger("outlier_detection.interval_ms", settings_.interval.count()));
  timer_->expires_after(std::max(interval, Millis(1)));
  timer_->async_wait([weak = weak_from_this()](const std::error_code& ec) {
    if (ec) return;
    const auto self = weak.lock();
    if (!self || !self->timer_) return;
    self->runInterval(Clock::now());
    self->armTimer();
  });
}

void OutlierDetector::stop() {
  if (timer_) timer_->cancel();
  timer_.reset();
  for (auto& [host, state] : hosts_) {
    if (!state.ejected_at) continue;
    state.ejected_at.reset();
    host->setHealthFlag(kFailedOutlierCheck, false);
    stats_->ejections_active.dec();
  }
  ejected_ = 0;
}

std::shared_ptr<const OutlierReporter> OutlierDetector::reporter() {
  return std::make_shared<Reporter>(executor_ ? *executor_ : asio::any_io_executor{}, weak_from_this());
}

}  // namespace sluice::upstream::outlier
