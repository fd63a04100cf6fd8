#include "control/zone_drain.h"

#include <algorithm>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "control/time_text.h"

namespace sluice::control {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::system_clock;

namespace {

constexpr DrainState kStates[] = {DrainState::Draining, DrainState::Paused, DrainState::Done, DrainState::Aborted};

int64_t epochMs(system_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

system_clock::time_point fromEpochMs(int64_t ms) { return system_clock::time_point(milliseconds(ms)); }

json verdictJson(const GuardVerdict& v, bool for_store) {
  json out{{"state", v.state},           {"reason", v.reason},     {"load_factor", v.load_factor},
           {"error_rate", v.error_rate}, {"requests", v.requests}, {"errors", v.errors}};
  if (for_store) {
    out["at_ms"] = epochMs(v.at);
  } else {
    out["at"] = timeText(v.at);
  }
  return out;
}

// Reads `key` of `object` into `out` when present; false (with `error`)
// when it is there with the wrong type.
template <typename T>
bool field(const json& object, const char* key, T& out, const std::string& path, std::string& error) {
  const auto it = object.find(key);
  if (it == object.end()) return true;
  try {
    out = it->template get<T>();
    return true;
  } catch (const json::exception&) {
    error = path + "." + key + ": wrong type (" + it->type_name() + ")";
    return false;
  }
}

}  // namespace

std::string_view drainStateName(DrainState state) {
  switch (state) {
    case DrainState::Draining:
      return "draining";
    case DrainState::Paused:
      return "paused";
    case DrainState::Done:
      return "done";
    case DrainState::Aborted:
      return "aborted";
  }
  return "draining";
}

json drainsToJson(const Drains& drains) {
  json out{{"drains", json::object()}};
  for (const auto& [zone, d] : drains) {
    out["drains"][zone] = {{"weight", d.weight},
                           {"from", d.from},
                           {"target", d.target},
                           {"step", d.step},
                           {"every_ms", d.every.count()},
                           {"state", drainStateName(d.state)},
                           {"forced", d.forced},
                           {"steps", d.steps},
                           {"started_at_ms", epochMs(d.started_at)},
                           {"next_step_at_ms", epochMs(d.next_step_at)},
                           {"updated_at_ms", epochMs(d.updated_at)},
                           {"guard_since_ms", epochMs(d.guard_since)},
                           {"guard", verdictJson(d.guard, true)}};
  }
  return out;
}

bool drainsFromJson(const json& in, Drains& out, std::string& error) {
  if (!in.is_object() || !in.contains("drains") || !in["drains"].is_object()) {
    error = "expected an object with a \"drains\" object";
    return false;
  }
  Drains drains;
  for (const auto& [zone, value] : in["drains"].items()) {
    const std::string path = "drains." + zone;
    if (!value.is_object()) {
      error = path + ": expected an object";
      return false;
    }
    ZoneDrain d;
    d.zone = zone;
    int64_t every = d.every.count();
    std::string state = "draining";
    int64_t started = 0, next = 0, updated = 0, since = 0;
    if (!field(value, "weight", d.weight, path, error) || !field(value, "from", d.from, path, error) ||
        !field(value, "target", d.target, path, error) || !field(value, "step", d.step, path, error) ||
        !field(value, "every_ms", every, path, error) || !field(value, "state", state, path, error) ||
        !field(value, "forced", d.forced, path, error) || !field(value, "steps", d.steps, path, error) ||
        !field(value, "started_at_ms", started, path, error) || !field(value, "next_step_at_ms", next, path, error) ||
        !field(value, "updated_at_ms", updated, path, error) || !field(value, "guard_since_ms", since, path, error)) {
      return false;
    }
    if (d.weight > 100 || d.from > 100 || d.target > 100) {
      error = path + ": weights are 0..100";
      return false;
    }
    if (d.step == 0 || d.step > 100 || every <= 0) {
      error = path + ": step must be 1..100 and every_ms positive";
      return false;
    }
    const auto known = std::find_if(std::begin(kStates), std::end(kStates),
                                    [&state](DrainState s) { return drainStateName(s) == state; });
    if (known == std::end(kStates)) {
      error = path + ".state: '" + state + "' is not draining, paused, done or aborted";
      return false;
    }
    d.state = *known;
    d.every = milliseconds(every);
    d.started_at = fromEpochMs(started);
    d.next_step_at = fromEpochMs(next);
    d.updated_at = fromEpochMs(updated);
    d.guard_since = fromEpochMs(since);
    if (value.contains("guard") && value["guard"].is_object()) {
      const json& g = value["guard"];
      int64_t at = 0;
      if (!field(g, "state", d.guard.state, path + ".guard", error) ||
          !field(g, "reason", d.guard.reason, path + ".guard", error) ||
          !field(g, "load_factor", d.guard.load_factor, path + ".guard", error) ||
          !field(g, "error_rate", d.guard.error_rate, path + ".guard", error) ||
          !field(g, "requests", d.guard.requests, path + ".guard", error) ||
          !field(g, "errors", d.guard.errors, path + ".guard", error) ||
          !field(g, "at_ms", at, path + ".guard", error)) {
        return false;
      }
      d.guard.at = fromEpochMs(at);
    }
    drains.emplace(zone, std::move(d));
  }
  out = std::move(drains);
  return true;
}

json drainStatusJson(const ZoneDrain& d) {
  return {{"state", drainStateName(d.state)},
          {"weight", d.weight},
          {"from", d.from},
          {"target", d.target},
          {"step", d.step},
          {"every", fmt::format("{}ms", d.every.count())},
          {"forced", d.forced},
          {"steps", d.steps},
          {"started_at", timeText(d.started_at)},
          {"next_step_at", d.state == DrainState::Draining ? timeText(d.next_step_at) : ""},
          {"updated_at", timeText(d.updated_at)},
          {"guard", verdictJson(d.guard, false)}};
}

uint32_t nextWeight(const ZoneDrain& d) {
  if (d.weight > d.target) return d.weight - std::min(d.step, d.weight - d.target);
  if (d.weight < d.target) return d.weight + std::min(d.step, d.target - d.weight);
  return d.weight;
}

GuardVerdict checkCapacity(const Registry& registry, const std::map<std::string, uint32_t>& weights,
                           const std::string& zone, uint32_t target, double max_load_factor) {
  GuardVerdict verdict;
  verdict.at = system_clock::now();
  const auto weightOf = [&](const std::string& z) {
    if (z == zone) return target;
    const auto it = weights.find(z);
    return it == weights.end() ? registry.zoneWeight(z) : it->second;
  };
  for (const auto& service : registry.services) {
    // The healthy instance weight per zone, and the traffic weight of the
    // zones that have some.
    std::map<std::string, uint64_t> capacity;
    uint64_t total_capacity = 0;
    for (const auto& instance : service.instances) {
      if (instance.health != Health::Healthy && instance.health != Health::Degraded) continue;
      capacity[instance.zone] += instance.weight;
      total_capacity += instance.weight;
    }
    if (total_capacity == 0 || !capacity.contains(zone)) continue;  // the drain does not move this service
    uint64_t total_weight = 0;
    for (const auto& [z, c] : capacity) total_weight += weightOf(z);
    if (total_weight == 0) {
      verdict.state = "refused";
      verdict.reason = fmt::format(
          "service '{}' would have no zone left: every zone with healthy instances at weight 0", service.name);
      verdict.load_factor = 0;
      return verdict;
    }
    for (const auto& [z, c] : capacity) {
      if (z == zone) continue;
      const double traffic_share = static_cast<double>(weightOf(z)) / static_cast<double>(total_weight);
      const double capacity_share = static_cast<double>(c) / static_cast<double>(total_capacity);
      const double factor = traffic_share / capacity_share;
      if (factor > verdict.load_factor) verdict.load_factor = factor;
      // A little slack for the rounding of the shares.
      if (factor > max_load_factor + 1e-9) {
        verdict.state = "refused";
        verdict.reason = fmt::format(
            "service '{}': zone {} would take {:.0f}% of the traffic with {:.0f}% of the healthy instance weight "
            "({}/{}): load factor {:.2f}, over the limit {:.2f}",
            service.name, z, traffic_share * 100, capacity_share * 100, c, total_capacity, factor, max_load_factor);
        return verdict;
      }
    }
  }
  return verdict;
}

GuardVerdict checkErrors(const LoadReports::Loads& loads, const std::set<std::string>& zones,
                         system_clock::time_point since, const GuardOptions& options) {
  GuardVerdict verdict;
  verdict.at = system_clock::now();
  for (const auto& [node, clusters] : loads) {
    for (const auto& [cluster, localities] : clusters) {
      for (const auto& [zone, load] : localities) {
        if (!zones.contains(zone) || load.reported_at < since) continue;
        verdict.requests += load.successful + load.errors;
        verdict.errors += load.errors;
      }
    }
  }
  if (verdict.requests == 0) {
    verdict.state = "no_data";
    verdict.reason = "no load reported from the remaining zones since the drain started";
    return verdict;
  }
  verdict.error_rate = static_cast<double>(verdict.errors) / static_cast<double>(verdict.requests);
  if (verdict.requests >= options.min_requests && verdict.error_rate > options.max_error_rate) {
    verdict.state = "paused";
    verdict.reason =
        fmt::format("error rate {:.2f}% in the remaining zones ({} of {} requests), over the limit {:.2f}%",
                    verdict.error_rate * 100, verdict.errors, verdict.requests, options.max_error_rate * 100);
  }
  return verdict;
}

}  // namespace sluice::control
