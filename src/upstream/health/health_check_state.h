// The per-host state machine of active health checking (Envoy's
// ActiveHealthCheckSession without the I/O): what one check result does to a
// host's health flags, and when the next check runs. Pure logic, so unit
// tests drive it directly; the checker (health_checker.h) feeds it results.
// Main thread only: it writes the host's health flags.
#pragma once

#include <chrono>
#include <cstdint>

#include "upstream/host.h"
#include "upstream/load_balancer.h"

namespace sluice::upstream::health {

using Millis = std::chrono::milliseconds;

// Envoy's envoy.data.core.v3.HealthCheckFailureType.
enum class FailureType : uint8_t { Active, Passive, Network, NetworkTimeout };
std::string_view failureTypeName(FailureType type);  // "ACTIVE", "PASSIVE", "NETWORK", "NETWORK_TIMEOUT"

// Envoy's HealthTransition: the host's health changed, is on its way to
// changing (a threshold is being counted), or stayed.
enum class Transition : uint8_t { Unchanged, Changed, ChangePending };

// A HealthCheck's timing and thresholds, with Envoy's defaults resolved.
struct Timing {
  Millis timeout{1000};
  Millis interval{1000};
  Millis unhealthy_interval{1000};            // default: interval
  Millis unhealthy_edge_interval{1000};       // default: unhealthy_interval
  Millis healthy_edge_interval{1000};         // default: interval
  Millis no_traffic_interval{60000};          // Envoy's default 60s
  Millis no_traffic_healthy_interval{60000};  // default: no_traffic_interval
  Millis interval_jitter{0};
  Millis initial_jitter{0};
  uint32_t interval_jitter_percent = 0;
  uint32_t unhealthy_threshold = 1;
  uint32_t healthy_threshold = 1;
};

// What a check result did.
struct Outcome {
  Transition transition = Transition::Unchanged;
  bool first_check = false;    // it was the host's first result
  bool added_healthy = false;  // the host just became healthy (add_healthy_event)
  bool ejected = false;        // the host just became unhealthy (eject_unhealthy_event)
  bool flags_changed = false;  // some health flag changed (the host sets must be rebuilt)
};

class HostCheckState {
 public:
  // A check passed. A failed host turns healthy at once on its first result
  // (Envoy: faster startup), else after healthy_threshold passes in a row;
  // that clears active_hc_timeout and excluded_via_immediate_hc_fail too.
  Outcome onSuccess(const Host& host, const Timing& timing);
  // A check failed. A healthy host turns unhealthy at once for an ACTIVE
  // failure that is not retriable and for a PASSIVE one, after
  // unhealthy_threshold failures in a row for NETWORK(_TIMEOUT) and
  // retriable statuses. A timeout of a failed host sets active_hc_timeout
  // (cleared by any other failure).
  Outcome onFailure(const Host& host, FailureType type, bool retriable, const Timing& timing);
  bool firstCheck() const { return first_check_; }

 private:
  bool first_check_ = true;
  uint32_t num_healthy_ = 0;
  uint32_t num_unhealthy_ = 0;
};

// The wait before the next check (Envoy's HealthCheckerImplBase::interval):
// without traffic ever (the cluster made no connection yet) no_traffic_interval
// (no_traffic_healthy_interval for a settled healthy result); else, after a
// success, healthy_edge_interval while a change is pending and interval
// otherwise; after a failure, unhealthy_edge_interval while pending and
// unhealthy_interval otherwise. Jitter is added (withJitter).
Millis nextInterval(const Timing& timing, bool success, Transition transition, bool had_traffic, FastRandom& random);
// base + [0, interval_jitter_percent% of base) + [0, interval_jitter), at least 1 ms.
Millis withJitter(Millis base, const Timing& timing, FastRandom& random);
// Before a host's first check: [0, initial_jitter), 0 when it is unset.
Millis initialDelay(const Timing& timing, FastRandom& random);

}  // namespace sluice::upstream::health
