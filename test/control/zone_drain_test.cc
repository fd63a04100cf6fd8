#include "control/zone_drain.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control/drain_store.h"
#include "control/options.h"

namespace sluice::control {
namespace {

using std::chrono::system_clock;

// Service `name` with `per_zone[i]` healthy instances of weight 1 in zone i.
Service service(const std::string& name, const std::vector<std::pair<std::string, uint32_t>>& per_zone) {
  Service s;
  s.name = name;
  uint32_t port = 1000;
  for (const auto& [zone, count] : per_zone) {
    for (uint32_t i = 0; i < count; ++i) {
      Instance instance;
      instance.address = "127.0.0.1";
      instance.port = port++;
      instance.zone = zone;
      s.instances.push_back(instance);
    }
  }
  return s;
}

Registry threeZones() {
  Registry r;
  r.zones = {"a", "b", "c"};
  r.services.push_back(service("echo", {{"a", 2}, {"b", 2}, {"c", 2}}));
  return r;
}

TEST(ZoneDrainGuard, OneOfThreeEqualZonesMayGoTwoMayNot) {
  const Registry r = threeZones();
  const GuardVerdict one = checkCapacity(r, {}, "c", 0, 1.5);
  EXPECT_EQ(one.state, "ok");
  EXPECT_DOUBLE_EQ(one.load_factor, 1.5);
  const GuardVerdict two = checkCapacity(r, {{"c", 0}}, "b", 0, 1.5);
  EXPECT_EQ(two.state, "refused");
  EXPECT_DOUBLE_EQ(two.load_factor, 3.0);
  EXPECT_NE(two.reason.find("service 'echo': zone a would take 100% of the traffic with 33%"), std::string::npos)
      << two.reason;
  // A higher limit lets it through; every zone at 0 never does.
  EXPECT_EQ(checkCapacity(r, {{"c", 0}}, "b", 0, 3.0).state, "ok");
  const GuardVerdict none = checkCapacity(r, {{"c", 0}, {"b", 0}}, "a", 0, 100);
  EXPECT_EQ(none.state, "refused");
  EXPECT_NE(none.reason.find("no zone left"), std::string::npos);
}

TEST(ZoneDrainGuard, CapacityIsHealthyInstanceWeightPerService) {
  Registry r = threeZones();
  // Zone a has half its instances unhealthy: draining c leaves a at 50% of
  // the traffic with 1/5 of the capacity.
  r.services[0].instances[0].health = Health::Unhealthy;
  EXPECT_EQ(checkCapacity(r, {}, "c", 0, 1.5).state, "refused");
  EXPECT_NE(checkCapacity(r, {}, "c", 0, 1.5).reason.find("zone a would take 50%"), std::string::npos);
  // Heavier instances count for more: a's one instance at weight 3 makes a
  // fine (1.17) and b the short one (50% with 2/7: 1.75).
  r.services[0].instances[1].weight = 3;
  const GuardVerdict heavier = checkCapacity(r, {}, "c", 0, 1.5);
  EXPECT_NE(heavier.reason.find("zone b would take 50% of the traffic with 29%"), std::string::npos) << heavier.reason;
  EXPECT_EQ(checkCapacity(r, {}, "c", 0, 1.75).state, "ok");
  // A service with no instance in the drained zone is not moved by it.
  Registry other = threeZones();
  other.services.push_back(service("solo", {{"a", 1}}));
  EXPECT_EQ(checkCapacity(other, {}, "c", 0, 1.5).state, "ok");
}

TEST(ZoneDrainGuard, ErrorsPauseOnlyOverTheLimitWithEnoughRequestsSinceTheStart) {
  LoadReports::Loads loads;
  const auto now = system_clock::now();
  LocalityLoad bad;
  bad.successful = 80;
  bad.errors = 20;
  bad.reported_at = now;
  loads["n1"]["echo.a"]["a"] = bad;
  GuardOptions options;
  GuardVerdict v = checkErrors(loads, {"a", "b"}, now - std::chrono::seconds(1), options);
  EXPECT_EQ(v.state, "paused");
  EXPECT_EQ(v.requests, 100u);
  EXPECT_EQ(v.errors, 20u);
  EXPECT_DOUBLE_EQ(v.error_rate, 0.2);
  // Reports from before the drain's start do not count.
  EXPECT_EQ(checkErrors(loads, {"a"}, now + std::chrono::seconds(1), options).state, "no_data");
  // The drained zone's own errors do not count.
  EXPECT_EQ(checkErrors(loads, {"b"}, now - std::chrono::seconds(1), options).state, "no_data");
  // Too few requests to judge.
  options.min_requests = 1000;
  EXPECT_EQ(checkErrors(loads, {"a"}, now - std::chrono::seconds(1), options).state, "ok");
  options.min_requests = 20;
  options.max_error_rate = 0.25;
  EXPECT_EQ(checkErrors(loads, {"a"}, now - std::chrono::seconds(1), options).state, "ok");
}

TEST(ZoneDrain, StepsTowardTheTargetWithoutOvershooting) {
  ZoneDrain d;
  d.weight = 7;
  d.target = 0;
  d.step = 5;
  EXPECT_EQ(nextWeight(d), 2u);
  d.weight = 2;
  EXPECT_EQ(nextWeight(d), 0u);
  d.weight = 98;
  d.target = 100;
  EXPECT_EQ(nextWeight(d), 100u);
  d.weight = 100;
  EXPECT_EQ(nextWeight(d), 100u);
}

TEST(ZoneDrain, TheStoreFormRoundTripsAndBadStateIsRefusedWithItsPath) {
  Drains drains;
  ZoneDrain d;
  d.zone = "b";
  d.weight = 40;
  d.from = 100;
  d.target = 0;
  d.step = 3;
  d.every = std::chrono::milliseconds(250);
  d.state = DrainState::Paused;
  d.steps = 20;
  d.started_at = system_clock::time_point(std::chrono::milliseconds(1'700'000'000'000));
  d.guard.state = "paused";
  d.guard.reason = "why";
  drains["b"] = d;
  Drains back;
  std::string error;
  ASSERT_TRUE(drainsFromJson(drainsToJson(drains), back, error)) << error;
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back["b"].weight, 40u);
  EXPECT_EQ(back["b"].step, 3u);
  EXPECT_EQ(back["b"].every.count(), 250);
  EXPECT_EQ(back["b"].state, DrainState::Paused);
  EXPECT_EQ(back["b"].started_at, d.started_at);
  EXPECT_EQ(back["b"].guard.reason, "why");
  const auto bad = [&](const char* text) {
    Drains out;
    std::string why;
    EXPECT_FALSE(drainsFromJson(nlohmann::json::parse(text), out, why)) << text;
    return why;
  };
  EXPECT_EQ(bad(R"({"drains": {"b": {"weight": 101}}})"), "drains.b: weights are 0..100");
  EXPECT_EQ(bad(R"({"drains": {"b": {"weight": "x"}}})"), "drains.b.weight: wrong type (string)");
  EXPECT_EQ(bad(R"({"drains": {"b": {"state": "gone"}}})"),
            "drains.b.state: 'gone' is not draining, paused, done or aborted");
  EXPECT_EQ(bad(R"({"drains": {"b": {"step": 0}}})"), "drains.b: step must be 1..100 and every_ms positive");
  EXPECT_EQ(bad(R"([1])"), "expected an object with a \"drains\" object");
}

TEST(FileDrainStore, WritesWholeThroughARenameAndReadsItBack) {
  const std::string dir = std::filesystem::temp_directory_path() / ("drain-store-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  FileDrainStore store(dir + "/state.json");
  Drains out;
  std::string error;
  ASSERT_TRUE(store.load(out, error)) << error;  // no file yet: no drains
  EXPECT_TRUE(out.empty());
  Drains drains;
  drains["a"].zone = "a";
  drains["a"].weight = 12;
  EXPECT_EQ(store.write(drains), "");
  EXPECT_FALSE(std::filesystem::exists(dir + "/state.json.tmp"));
  ASSERT_TRUE(store.load(out, error)) << error;
  EXPECT_EQ(out.at("a").weight, 12u);
  // A directory that is not there: the write fails with the path, nothing changes.
  FileDrainStore nowhere(dir + "/missing/state.json");
  EXPECT_NE(nowhere.write(drains).find("missing/state.json.tmp"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ControlOptions, DrainCommands) {
  auto parse = [](std::vector<std::string> args) { return parseControlOptions(args); };
  auto p = parse({"drain", "us-east-1b", "--to", "0", "--step", "2", "--every", "500ms", "--force", "--control",
                  "http://127.0.0.1:9"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.options.command, Command::Drain);
  EXPECT_EQ(p.options.zone, "us-east-1b");
  EXPECT_EQ(p.options.to, 0u);
  EXPECT_EQ(p.options.step, 2u);
  EXPECT_EQ(p.options.every, "500ms");
  EXPECT_TRUE(p.options.force);
  EXPECT_EQ(p.options.control_url, "http://127.0.0.1:9");
  p = parse({"abort"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_TRUE(p.options.zone.empty());
  EXPECT_EQ(p.options.control_url, "http://127.0.0.1:18001");
  EXPECT_EQ(parse({"drain", "z"}).error, "drain needs --to PERCENT");
  EXPECT_EQ(parse({"drain", "--to", "0"}).error, "drain needs a ZONE");
  EXPECT_EQ(parse({"drain", "z", "--to", "101"}).error, "--to '101': expected a percentage from 0 to 100");
  EXPECT_EQ(parse({"drain", "z", "--to", "0", "--step", "0"}).error, "--step '0': expected 1 to 100");
  EXPECT_EQ(parse({"undrain", "z", "--to", "5"}).error, "unknown flag '--to' for undrain");
  EXPECT_EQ(parse({"undrain", "z", "--force"}).error, "--force is a flag of drain and resume");
  EXPECT_EQ(parse({"status", "--every", "1s"}).error, "unknown flag '--every' for status");
  p = parse({"serve", "--registry", "file:r.yaml", "--xds-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
             "--guard-max-load-factor", "2", "--guard-max-error-rate", "0.1", "--guard-min-requests", "5",
             "--guard-rollback-steps", "3", "--state-file", "/tmp/s.json"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_DOUBLE_EQ(p.options.guard.max_load_factor, 2);
  EXPECT_DOUBLE_EQ(p.options.guard.max_error_rate, 0.1);
  EXPECT_EQ(p.options.guard.min_requests, 5u);
  EXPECT_EQ(p.options.guard.rollback_steps, 3u);
  EXPECT_EQ(p.options.state_file, "/tmp/s.json");
  EXPECT_FALSE(parse({"serve", "--registry", "file:r", "--xds-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
                      "--guard-max-error-rate", "2"})
                   .ok);
  EXPECT_EQ(parse({"validate", "--registry", "file:r", "--state-file", "x"}).error,
            "--state-file is a flag of serve, not of validate");
}

}  // namespace
}  // namespace sluice::control
