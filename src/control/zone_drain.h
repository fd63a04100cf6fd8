// Zone drains (issue 15): a zone's weight moved step by step to a target,
// with a guard, the state written to the store at every step.
//
// The model (docs/ARCHITECTURE.md, "Zone drains"):
// - A zone's served weight is its drain record's `weight` while the zone has
//   a record, else the registry's zone_weights entry. A record exists from a
//   drain's start until it completes at the registry's weight (an undrain back
//   to 100 removes it); a drain completed elsewhere (e.g. at 0) stays, so a
//   drained zone stays drained across restarts and registry edits.
// - Each step is saved to the store before it is served: a control plane
//   killed mid-drain resumes from the store where it stopped.
// - The guard: before a drain lowers a zone's weight, the capacity check
//   (checkCapacity) refuses when a remaining zone would carry more than
//   max_load_factor times its share of the healthy instance weight; during
//   a drain, before each step, the error check (checkErrors) pauses the drain
//   and rolls back the last steps when the remaining zones' error rate in the
//   load reports (LRS) since the drain started rises above max_error_rate.
//   No reports yet: no verdict, the drain goes on.
//
// Pure functions here; the controller is drain_controller.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "control/load_reports.h"
#include "control/registry.h"

namespace sluice::control {

enum class DrainState {
  Draining,  // stepping toward the target
  Paused,    // stopped by the guard (resume to go on)
  Done,      // at the target
  Aborted,   // stopped by an operator, at the weight it had reached
};
std::string_view drainStateName(DrainState state);

struct GuardOptions {
  // A remaining zone may carry at most this many times its share of the
  // service's healthy instance weight: 1.5 lets one of three equal zones go.
  double max_load_factor = 1.5;
  // Pause when the remaining zones' error rate rises above this ...
  double max_error_rate = 0.05;
  // ... over at least this many requests reported since the drain started.
  uint64_t min_requests = 20;
  // Steps undone when the guard pauses a drain.
  uint32_t rollback_steps = 2;
};

// The guard's verdict, with its numbers.
struct GuardVerdict {
  // ok | no_data (no reports since the drain started) | refused | forced |
  // paused (errors: the drain was stopped)
  std::string state = "ok";
  std::string reason;      // why, with the numbers ("" when ok)
  double load_factor = 0;  // capacity check: the highest over services and remaining zones
  double error_rate = 0;   // error check: errors / requests in the remaining zones
  uint64_t requests = 0;   // error check: requests reported in the remaining zones
  uint64_t errors = 0;
  std::chrono::system_clock::time_point at;
};

struct ZoneDrain {
  std::string zone;
  uint32_t weight = 100;  // the weight served now
  uint32_t from = 100;    // the weight when the drain started
  uint32_t target = 0;
  uint32_t step = 1;  // percentage points per step
  std::chrono::milliseconds every{2000};
  DrainState state = DrainState::Draining;
  bool forced = false;  // started with --force over the capacity check
  uint64_t steps = 0;   // steps taken
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point next_step_at;
  std::chrono::system_clock::time_point updated_at;
  // Load reports older than this do not count for the error check (the
  // drain's start or last resume).
  std::chrono::system_clock::time_point guard_since;
  GuardVerdict guard;
};
using Drains = std::map<std::string, ZoneDrain>;  // zone → its drain

// The store's form: {"drains": {"<zone>": {...}}}, times in ms since the epoch.
nlohmann::json drainsToJson(const Drains& drains);
// False with `error` naming the path when `json` is not that form.
bool drainsFromJson(const nlohmann::json& json, Drains& out, std::string& error);
// One drain as the REST API shows it (times as RFC 3339 text).
nlohmann::json drainStatusJson(const ZoneDrain& drain);

// One step toward the target.
uint32_t nextWeight(const ZoneDrain& drain);

// Can the zones other than `zone` take the traffic when `zone` goes to
// `target`? `weights`: every zone's served weight now. Per service, over the
// zones where it has instances that take traffic: a zone's load factor is
// its share of the traffic after the change divided by its share of the
// healthy instance weight. Refused when a factor exceeds `max_load_factor`,
// or when a service would be left with no zone.
GuardVerdict checkCapacity(const Registry& registry, const std::map<std::string, uint32_t>& weights,
                           const std::string& zone, uint32_t target, double max_load_factor);

// The error check over the latest load reports of `zones` received since
// `since`: paused when at least options.min_requests requests were reported
// and their error rate exceeds options.max_error_rate; no_data when nothing
// was reported.
GuardVerdict checkErrors(const LoadReports::Loads& loads, const std::set<std::string>& zones,
                         std::chrono::system_clock::time_point since, const GuardOptions& options);

}  // namespace sluice::control
