#include "upstream/health/health_check_state.h"

namespace sluice::upstream::health {

std::string_view failureTypeName(FailureType type) {
  switch (type) {
    case FailureType::Active:
      return "ACTIVE";
    case FailureType::Passive:
      return "PASSIVE";
    case FailureType::Network:
      return "NETWORK";
    case FailureType::NetworkTimeout:
      return "NETWORK_TIMEOUT";
  }
  return "ACTIVE";
}

Outcome HostCheckState::onSuccess(const Host& host, const Timing& timing) {
  Outcome out;
  out.first_check = first_check_;
  num_unhealthy_ = 0;
  const uint32_t before = host.healthFlags();
  if ((before & kFailedActiveHc) != 0) {
    if (first_check_ || ++num_healthy_ >= timing.healthy_threshold) {
      host.setHealthFlag(kFailedActiveHc | kActiveHcTimeout | kExcludedViaImmediateHcFail, false);
      num_healthy_ = 0;
      out.transition = Transition::Changed;
      out.added_healthy = true;
    } else {
      out.transition = Transition::ChangePending;
    }
  }
  first_check_ = false;
  out.flags_changed = host.healthFlags() != before;
  return out;
}

Outcome HostCheckState::onFailure(const Host& host, FailureType type, bool retriable, const Timing& timing) {
  Outcome out;
  out.first_check = first_check_;
  num_healthy_ = 0;
  const uint32_t before = host.healthFlags();
  const bool network = type == FailureType::Network || type == FailureType::NetworkTimeout;
  if ((before & kFailedActiveHc) == 0) {
    if ((!network && !retriable) || ++num_unhealthy_ >= timing.unhealthy_threshold) {
      host.setHealthFlag(kFailedActiveHc, true);
      num_unhealthy_ = 0;
      out.transition = Transition::Changed;
      out.ejected = true;
    } else {
      out.transition = Transition::ChangePending;
    }
  }
  host.setHealthFlag(kActiveHcTimeout,
                     type == FailureType::NetworkTimeout && (host.healthFlags() & kFailedActiveHc) != 0);
  first_check_ = false;
  out.flags_changed = host.healthFlags() != before;
  return out;
}

Millis withJitter(Millis base, const Timing& timing, FastRandom& random) {
  auto ms = static_cast<uint64_t>(std::max<int64_t>(0, base.count()));
  const uint64_t percent_part = timing.interval_jitter_percent * ms / 100;
  if (percent_part > 0) ms += random.below(percent_part);
  if (timing.interval_jitter.count() > 0) ms += random.below(static_cast<uint64_t>(timing.interval_jitter.count()));
  return Millis(std::max<uint64_t>(ms, 1));
}

Millis nextInterval(const Timing& timing, bool success, Transition transition, bool had_traffic, FastRandom& random) {
  const bool pending = transition == Transition::ChangePending;
  Millis base;
  if (!had_traffic) {
    base = success && !pending ? timing.no_traffic_healthy_interval : timing.no_traffic_interval;
  } else if (success) {
    base = pending ? timing.healthy_edge_interval : timing.interval;
  } else {
    base = pending ? timing.unhealthy_edge_interval : timing.unhealthy_interval;
  }
  return withJitter(base, timing, random);
}

Millis initialDelay(const Timing& timing, FastRandom& random) {
  if (timing.initial_jitter.count() <= 0) return Millis(0);
  return Millis(random.below(static_cast<uint64_t>(timing.initial_jitter.count())));
}

}  // namespace sluice::upstream::health
