#include "control/drain_controller.h"

#include <algorithm>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include "admin/admin_json.h"
#include "control/options.h"
#include "control/time_text.h"
#include "log/logger.h"

namespace sluice::control {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::system_clock;

namespace {

// A failed state write is tried again after this.
constexpr milliseconds kStoreRetry{1000};

json errorBody(std::string error) { return {{"error", std::move(error)}}; }

}  // namespace

bool DrainController::restore(std::string& error) {
  Drains saved;
  if (!store_.load(saved, error)) return false;
  // Zones that left the registry keep no drain.
  const auto& registry = cp_.storeRegistry();
  for (auto it = saved.begin(); it != saved.end();) {
    const bool known = std::find(registry->zones.begin(), registry->zones.end(), it->first) != registry->zones.end();
    if (known) {
      SLUICE_LOG(config, info, "zone {}: drain restored from {}: {} at weight {} (target {})", it->first,
                 store_.describe(), drainStateName(it->second.state), it->second.weight, it->second.target);
      ++it;
    } else {
      SLUICE_LOG(config, warn, "zone {}: drain in {} dropped: the zone is not in the registry", it->first,
                 store_.describe());
      it = saved.erase(it);
    }
  }
  drains_ = std::move(saved);
  cp_.setZoneWeights(weights());
  return true;
}

void DrainController::onStoreChanged(const std::string& value) {
  if (store_.leader()) return;  // its own write coming back
  Drains next;
  std::string error;
  if (!value.empty()) {
    const auto parsed = json::parse(value, nullptr, false);
    if (parsed.is_discarded() || !drainsFromJson(parsed, next, error)) {
      ++counters_.store_errors;
      last_store_error_ = store_.describe() + ": " + (parsed.is_discarded() ? std::string("not valid JSON") : error);
      SLUICE_LOG(config, error, "zone drains: {} (the drains served are kept)", last_store_error_);
      return;
    }
  }
  SLUICE_LOG(config, info, "zone drains: {} changed by replica {}: {} drains", store_.describe(), store_.leaderId(),
             next.size());
  drains_ = std::move(next);
  cp_.setZoneWeights(weights());
}

void DrainController::run() {
  store_.run();
  running_ = true;
  asio::co_spawn(timer_.get_executor(), loop(), asio::detached);
}

void DrainController::stop() {
  running_ = false;
  timer_.cancel();
}

std::map<std::string, uint32_t> DrainController::weights() const {
  std::map<std::string, uint32_t> out;
  for (const auto& [zone, d] : drains_) out[zone] = d.weight;
  return out;
}

asio::awaitable<void> DrainController::lock() {
  while (busy_) {
    wake_.expires_at(asio::steady_timer::time_point::max());
    std::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  busy_ = true;
}

void DrainController::unlock() {
  busy_ = false;
  wake_.cancel();
}

std::set<std::string> DrainController::remainingZones(const std::string& zone, const Drains& drains) const {
  std::set<std::string> out;
  const auto& registry = cp_.storeRegistry();
  if (!registry) return out;
  for (const auto& z : registry->zones) {
    if (z == zone) continue;
    const auto it = drains.find(z);
    const uint32_t weight = it != drains.end() ? it->second.weight : registry->zoneWeight(z);
    if (weight > 0) out.insert(z);
  }
  return out;
}

GuardVerdict DrainController::capacity(const std::string& zone, uint32_t to) const {
  return checkCapacity(*cp_.storeRegistry(), weights(), zone, to, options_.max_load_factor);
}

void DrainController::forgetSettled(Drains& drains) const {
  const auto& registry = cp_.storeRegistry();
  if (!registry) return;
  for (auto it = drains.begin(); it != drains.end();) {
    const ZoneDrain& d = it->second;
    if (d.state == DrainState::Done && d.weight == registry->zoneWeight(d.zone)) {
      SLUICE_LOG(config, info, "zone {}: back at the registry's weight {}; its drain record is removed", d.zone,
                 d.weight);
      it = drains.erase(it);
    } else {
      ++it;
    }
  }
}

asio::awaitable<std::string> DrainController::commit(Drains next) {
  forgetSettled(next);
  std::string error = co_await store_.save(next);
  if (!error.empty()) {
    ++counters_.store_errors;
    last_store_error_ = error;
    retry_at_ = system_clock::now() + kStoreRetry;
    SLUICE_LOG(config, error, "zone drains: state not written to {} (nothing changed): {}", store_.describe(), error);
    co_return error;
  }
  last_store_error_.clear();
  drains_ = std::move(next);
  cp_.setZoneWeights(weights());
  timer_.cancel();  // the loop looks at the new state
  co_return "";
}

void DrainController::advance(ZoneDrain& d, system_clock::time_point now) {
  if (d.target < d.weight && loads_ != nullptr) {
    const GuardVerdict verdict = checkErrors(loads_->loads(), remainingZones(d.zone, drains_), d.guard_since, options_);
    if (verdict.state == "paused") {
      const uint32_t undo = std::min<uint64_t>(static_cast<uint64_t>(options_.rollback_steps) * d.step, 100);
      const uint32_t back = std::min(d.from, d.weight + undo);
      ++counters_.guard_pauses;
      counters_.guard_rollbacks += d.step == 0 ? 0 : (back - d.weight + d.step - 1) / d.step;
      SLUICE_LOG(config, warn, "zone {}: drain paused by the guard at weight {}, rolled back to {}: {}", d.zone,
                 d.weight, back, verdict.reason);
      d.guard = verdict;
      d.guard.reason += fmt::format("; weight rolled back from {} to {}", d.weight, back);
      d.weight = back;
      d.state = DrainState::Paused;
      d.updated_at = now;
      return;
    }
    d.guard = verdict;
  }
  const uint32_t was = d.weight;
  d.weight = nextWeight(d);
  ++d.steps;
  ++counters_.steps;
  d.updated_at = now;
  // On schedule, but never a burst of steps after a pause in the process.
  d.next_step_at = std::max(d.next_step_at + d.every, now);
  SLUICE_LOG(config, info, "zone {}: drain step {}: weight {} -> {} (target {})", d.zone, d.steps, was, d.weight,
             d.target);
  if (d.weight == d.target) {
    d.state = DrainState::Done;
    ++counters_.completed;
    SLUICE_LOG(config, info, "zone {}: drain done at weight {} after {} steps", d.zone, d.weight, d.steps);
  }
}

asio::awaitable<void> DrainController::loop() {
  while (running_) {
    const auto now = system_clock::now();
    auto due = system_clock::time_point::max();
    for (const auto& [zone, d] : drains_) {
      if (d.state == DrainState::Draining) due = std::min(due, std::max(d.next_step_at, retry_at_));
    }
    if (!store_.leader()) {
      // Another replica drives drains; look again when this one may lead.
      timer_.expires_after(std::chrono::seconds(1));
      std::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (due > now) {
      if (due == system_clock::time_point::max()) {
        timer_.expires_at(asio::steady_timer::time_point::max());
      } else {
        timer_.expires_after(due - now);
      }
      std::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;  // woken early (a change) or on time: look again
    }
    co_await lock();
    Drains next = drains_;
    const auto at = system_clock::now();
    bool changed = false;
    for (auto& [zone, d] : next) {
      if (d.state == DrainState::Draining && d.next_step_at <= at) {
        advance(d, at);
        changed = true;
      }
    }
    if (changed) co_await commit(std::move(next));
    unlock();
  }
}

asio::awaitable<DrainController::Reply> DrainController::drain(std::string zone, uint32_t to, uint32_t step,
                                                               milliseconds every, bool force) {
  const auto& registry = cp_.storeRegistry();
  if (std::find(registry->zones.begin(), registry->zones.end(), zone) == registry->zones.end()) {
    co_return Reply{404, errorBody("zone '" + zone + "' is not in the registry")};
  }
  if (!store_.leader()) {
    co_return Reply{421, errorBody("this replica does not drive drains; replica '" + store_.leaderId() +
                                   "' does (it holds the lease in " + store_.describe() + ")")};
  }
  co_await lock();
  const auto now = system_clock::now();
  const auto found = drains_.find(zone);
  const uint32_t current = found != drains_.end() ? found->second.weight : registry->zoneWeight(zone);
  ZoneDrain d;
  d.zone = zone;
  d.weight = current;
  d.from = current;
  d.target = to;
  d.step = step;
  d.every = every;
  d.state = to == current ? DrainState::Done : DrainState::Draining;
  d.started_at = now;
  d.next_step_at = now;  // the first step at once
  d.updated_at = now;
  d.guard_since = now;
  d.guard.at = now;
  if (to < current) {
    d.guard = capacity(zone, to);
    if (d.guard.state == "refused") {
      if (!force) {
        ++counters_.guard_refusals;
        SLUICE_LOG(config, warn, "zone {}: drain to {} refused by the guard: {}", zone, to, d.guard.reason);
        unlock();
        co_return Reply{409,
                        {{"error", "refused by the guard: " + d.guard.reason}, {"guard", drainStatusJson(d)["guard"]}}};
      }
      ++counters_.guard_forced;
      d.guard.state = "forced";
      d.forced = true;
      SLUICE_LOG(config, warn, "zone {}: drain to {} forced over the guard: {}", zone, to, d.guard.reason);
    }
  }
  Drains next = drains_;
  next[zone] = d;
  const std::string error = co_await commit(std::move(next));
  unlock();
  if (!error.empty()) co_return Reply{503, errorBody("the drain state could not be written: " + error)};
  ++counters_.started;
  SLUICE_LOG(config, info, "zone {}: drain from {} to {} in steps of {} every {}ms{}", zone, current, to, step,
             every.count(), force ? " (forced)" : "");
  const auto it = drains_.find(zone);
  json body = it != drains_.end() ? drainStatusJson(it->second) : json{{"state", "idle"}, {"weight", current}};
  body["zone"] = zone;
  co_return Reply{200, std::move(body)};
}

asio::awaitable<DrainController::Reply> DrainController::abort(std::string zone) {
  co_await lock();
  const auto it = drains_.find(zone);
  if (it == drains_.end() || (it->second.state != DrainState::Draining && it->second.state != DrainState::Paused)) {
    unlock();
    co_return Reply{409, errorBody("zone '" + zone + "' has no drain in progress")};
  }
  Drains next = drains_;
  ZoneDrain& d = next[zone];
  d.state = DrainState::Aborted;
  d.updated_at = system_clock::now();
  const std::string error = co_await commit(std::move(next));
  unlock();
  if (!error.empty()) co_return Reply{503, errorBody("the drain state could not be written: " + error)};
  ++counters_.aborted;
  SLUICE_LOG(config, warn, "zone {}: drain aborted at weight {}", zone, drains_.at(zone).weight);
  json body = drainStatusJson(drains_.at(zone));
  body["zone"] = zone;
  co_return Reply{200, std::move(body)};
}

asio::awaitable<DrainController::Reply> DrainController::resume(std::string zone, bool force) {
  co_await lock();
  const auto it = drains_.find(zone);
  if (it == drains_.end() || (it->second.state != DrainState::Paused && it->second.state != DrainState::Aborted)) {
    unlock();
    co_return Reply{409, errorBody("zone '" + zone + "' has no paused or aborted drain")};
  }
  Drains next = drains_;
  ZoneDrain& d = next[zone];
  const auto now = system_clock::now();
  if (d.target < d.weight) {
    GuardVerdict verdict = capacity(zone, d.target);
    if (verdict.state == "refused") {
      if (!force) {
        ++counters_.guard_refusals;
        unlock();
        co_return Reply{409, {{"error", "refused by the guard: " + verdict.reason}}};
      }
      ++counters_.guard_forced;
      verdict.state = "forced";
      d.forced = true;
    }
    d.guard = verdict;
  }
  d.state = DrainState::Draining;
  d.guard_since = now;
  d.next_step_at = now;
  d.updated_at = now;
  const std::string error = co_await commit(std::move(next));
  unlock();
  if (!error.empty()) co_return Reply{503, errorBody("the drain state could not be written: " + error)};
  ++counters_.started;
  SLUICE_LOG(config, info, "zone {}: drain resumed at weight {} toward {}", zone, drains_.at(zone).weight,
             drains_.at(zone).target);
  json body = drainStatusJson(drains_.at(zone));
  body["zone"] = zone;
  co_return Reply{200, std::move(body)};
}

namespace {

admin::AdminResponse reply(const DrainController::Reply& r) {
  return {r.status, "application/json", admin::dumpJson(r.body)};
}

admin::AdminResponse badRequest(std::string error) {
  return {400, "application/json", admin::dumpJson(errorBody(std::move(error)))};
}

// A percentage in `body[key]` (an integer 0..100), or `fallback` when absent.
bool percent(const json& body, const char* key, uint32_t& out, std::string& error) {
  const auto it = body.find(key);
  if (it == body.end()) return true;
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 100) {
    error = std::string(key) + ": expected an integer from 0 to 100";
    return false;
  }
  out = static_cast<uint32_t>(it->get<int64_t>());
  return true;
}

asio::awaitable<admin::AdminResponse> handle(DrainController& drains, const admin::AdminRequest& request) {
  constexpr std::string_view kRoot = "/v1/zones/";
  const std::string rest = std::string(std::string_view(request.path).substr(kRoot.size()));
  const size_t slash = rest.rfind('/');
  if (slash == std::string::npos || slash == 0) {
    co_return admin::AdminResponse{
        404, "application/json",
        admin::dumpJson(errorBody("expected /v1/zones/{zone}/drain, /undrain, /abort or /resume"))};
  }
  const std::string zone = admin::percentDecode(std::string_view(rest).substr(0, slash));
  const std::string action = rest.substr(slash + 1);
  if (action != "drain" && action != "undrain" && action != "abort" && action != "resume") {
    co_return admin::AdminResponse{
        404, "application/json",
        admin::dumpJson(errorBody("unknown action '" + action + "': expected drain, undrain, abort or resume"))};
  }
  if (request.method != "POST") {
    co_return admin::AdminResponse{405, "application/json",
                                   admin::dumpJson(errorBody("method " + request.method + " not allowed: POST"))};
  }
  const json body = request.body.empty() ? json::object() : json::parse(request.body, nullptr, false);
  if (!body.is_object()) co_return badRequest("body: expected a JSON object");
  static const std::set<std::string> kKnown{"to", "step", "every", "force"};
  for (const auto& [key, value] : body.items()) {
    if (!kKnown.contains(key)) co_return badRequest("body: unknown field '" + key + "' (to, step, every, force)");
  }
  uint32_t to = action == "undrain" ? 100 : 0;
  uint32_t step = 1;
  milliseconds every{2000};
  bool force = false;
  std::string error;
  if (action == "drain" && !body.contains("to")) co_return badRequest("to: required (the target weight, 0..100)");
  if (action == "undrain" && body.contains("to")) co_return badRequest("to: undrain always goes to 100");
  if (!percent(body, "to", to, error) || !percent(body, "step", step, error)) co_return badRequest(error);
  if (step == 0) co_return badRequest("step: at least 1 percentage point");
  if (body.contains("every")) {
    const json& e = body["every"];
    if (e.is_string()) {
      if (!parseDuration(e.get<std::string>(), every) || every.count() <= 0) {
        co_return badRequest("every: expected a positive duration such as 2s or 500ms");
      }
    } else {
      co_return badRequest("every: expected a duration string such as \"2s\"");
    }
  }
  if (body.contains("force")) {
    if (!body["force"].is_boolean()) co_return badRequest("force: expected true or false");
    force = body["force"].get<bool>();
  }
  if (action == "abort") co_return reply(co_await drains.abort(zone));
  if (action == "resume") co_return reply(co_await drains.resume(zone, force));
  co_return reply(co_await drains.drain(zone, to, step, every, force));
}

}  // namespace

void addDrainApi(admin::AdminServer& server, DrainController& drains) {
  server.addAsync("/v1/zones/", "POST /v1/zones/{zone}/drain {to, step, every, force}, /undrain, /abort, /resume",
                  [&drains](const admin::AdminRequest& request) { return handle(drains, request); });
}

json zoneDrainJson(const DrainController& drains, const std::string& zone, uint32_t registry_weight) {
  const auto it = drains.drains().find(zone);
  if (it == drains.drains().end()) {
    return {{"state", "idle"},           {"registry_weight", registry_weight},
            {"target", registry_weight}, {"step", nullptr},
            {"every", nullptr},          {"next_step_at", ""},
            {"drain", nullptr},          {"weight_source", "registry"}};
  }
  const ZoneDrain& d = it->second;
  json status = drainStatusJson(d);
  return {{"state", drainStateName(d.state)},
          {"registry_weight", registry_weight},
          {"target", d.target},
          {"step", d.step},
          {"every", status["every"]},
          {"next_step_at", status["next_step_at"]},
          {"guard", status["guard"]},
          {"drain", std::move(status)},
          {"weight_source", "drain"}};
}

}  // namespace sluice::control
