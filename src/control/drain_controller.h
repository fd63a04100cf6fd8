// The zone drain controller (zone_drain.h has the model and the guard's
// rules): drains started, aborted and resumed through the REST API, stepped
// on a timer, each change saved to the DrainStore before the control plane
// serves it (ControlPlane::setZoneWeights). Main thread only.
//
// REST (POST only; JSON answers):
//   /v1/zones/{zone}/drain    {"to": 0, "step": 1, "every": "2s", "force": false}
//   /v1/zones/{zone}/undrain  {"step": 1, "every": "2s"}  (a drain to 100)
//   /v1/zones/{zone}/abort    stop where it is
//   /v1/zones/{zone}/resume   go on after a pause or an abort {"force": false}
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "admin/admin_server.h"
#include "control/control_plane.h"
#include "control/drain_store.h"
#include "control/load_reports.h"
#include "control/zone_drain.h"

namespace sluice::control {

struct DrainCounters {
  uint64_t started = 0;          // drains and undrains started (resumes included)
  uint64_t steps = 0;            // weight changes made by steps
  uint64_t completed = 0;        // drains that reached their target
  uint64_t aborted = 0;          // drains stopped by an operator
  uint64_t guard_refusals = 0;   // drains the capacity check refused
  uint64_t guard_forced = 0;     // drains started with --force over a refusal
  uint64_t guard_pauses = 0;     // drains the error check paused
  uint64_t guard_rollbacks = 0;  // steps undone by those pauses
  uint64_t store_errors = 0;     // state writes that failed (the change was not made)
};

class DrainController {
 public:
  DrainController(asio::io_context& io, ControlPlane& cp, DrainStore& store, const LoadReports* loads,
                  GuardOptions options)
      : cp_(cp), store_(store), loads_(loads), options_(options), timer_(io), wake_(io) {}

  // After ControlPlane::start() and before the ADS server opens: reads the
  // saved drains and hands their weights to the control plane, so the
  // first push already has them.
  bool restore(std::string& error);
  // After ControlPlane::start(): drains in progress step on.
  void run();
  void stop();
  // Another replica wrote the store's drains (`value`: their JSON, "" when
  // the key is gone): a replica that does not lead serves them.
  void onStoreChanged(const std::string& value);

  struct Reply {
    int status = 200;
    nlohmann::json body;
  };
  asio::awaitable<Reply> drain(std::string zone, uint32_t to, uint32_t step, std::chrono::milliseconds every,
                               bool force);
  asio::awaitable<Reply> abort(std::string zone);
  asio::awaitable<Reply> resume(std::string zone, bool force);

  const Drains& drains() const { return drains_; }
  const DrainCounters& counters() const { return counters_; }
  const GuardOptions& options() const { return options_; }
  const std::string& lastStoreError() const { return last_store_error_; }
  const DrainStore& store() const { return store_; }
  // The served weight of every zone with a drain record.
  std::map<std::string, uint32_t> weights() const;

 private:
  asio::awaitable<void> lock();
  void unlock();
  asio::awaitable<void> loop();
  // Saves `next`; when written, it becomes the state served.
  asio::awaitable<std::string> commit(Drains next);
  void advance(ZoneDrain& drain, std::chrono::system_clock::time_point now);
  // Drains completed at the registry's weight leave the store.
  void forgetSettled(Drains& drains) const;
  // Zones other than `zone` whose served weight is above 0.
  std::set<std::string> remainingZones(const std::string& zone, const Drains& drains) const;
  GuardVerdict capacity(const std::string& zone, uint32_t to) const;

  ControlPlane& cp_;
  DrainStore& store_;
  const LoadReports* loads_;
  GuardOptions options_;
  asio::steady_timer timer_;  // the next step (cancelled to look again)
  asio::steady_timer wake_;   // lock() waiters
  bool busy_ = false;
  bool running_ = false;
  Drains drains_;
  DrainCounters counters_;
  std::string last_store_error_;
  std::chrono::system_clock::time_point retry_at_;  // after a failed write, no step before this
};

// POST /v1/zones/{zone}/{drain|undrain|abort|resume}.
void addDrainApi(admin::AdminServer& server, DrainController& drains);

// The drain fields of one zone for GET /v1/zones: `state` idle when the zone
// has no drain record.
nlohmann::json zoneDrainJson(const DrainController& drains, const std::string& zone, uint32_t registry_weight);

}  // namespace sluice::control
