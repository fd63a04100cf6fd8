// The etcd registry's pure parts: the key layout, assembly and validation
// with errors naming key and path, the watch's state (resume revision,
// compaction), the gateway's encodings, the instance writes' JSON edit. The
// source against real etcd members: test/integration/control_etcd.test.mjs.
#include "control/etcd_layout.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "control/etcd_client.h"
#include "control/etcd_registry_source.h"
#include "control/registry_api.h"

namespace sluice::control {
namespace {

using nlohmann::json;

EtcdKeys validKeys() {
  return {
      {"/reg/zones", {R"(["z1","z2"])", 2}},
      {"/reg/services/echo",
       {R"({"protocol":"http1","instances":[{"address":"127.0.0.1","port":8080,"zone":"z1"}]})", 3}},
      {"/reg/services/api", {R"({"instances":[{"address":"10.0.0.1","port":80,"zone":"z2","weight":2}]})", 4}},
      {"/reg/gateways/edge",
       {R"({"port":10000,"virtual_hosts":[{"domains":["*"],"routes":[{"prefix":"/","service":"echo"}]}]})", 5}},
      {"/reg/zone_weights/z2", {"40", 6}},
      {"/reg/state/drain/z2", {R"({"to":0})", 7}},
  };
}

std::vector<std::string> errorsOf(const EtcdKeys& keys) {
  Registry registry;
  config::ErrorList errors;
  EXPECT_FALSE(assembleRegistry("/reg", keys, registry, errors));
  std::vector<std::string> out;
  for (const auto& e : errors.errors()) out.push_back(e.toString());
  return out;
}

TEST(EtcdLayout, KeyKinds) {
  EXPECT_EQ(parseRegistryKey("/reg", "/reg/zones").kind, KeyKind::Zones);
  const auto service = parseRegistryKey("/reg", "/reg/services/echo");
  EXPECT_EQ(service.kind, KeyKind::Service);
  EXPECT_EQ(service.name, "echo");
  EXPECT_EQ(parseRegistryKey("/reg", "/reg/gateways/edge").kind, KeyKind::Gateway);
  const auto weight = parseRegistryKey("/reg", "/reg/zone_weights/z1");
  EXPECT_EQ(weight.kind, KeyKind::ZoneWeight);
  EXPECT_EQ(weight.name, "z1");
  EXPECT_EQ(parseRegistryKey("/reg", "/reg/state/drain/z1").kind, KeyKind::State);
  EXPECT_EQ(parseRegistryKey("/reg", "/reg/services/a/b").kind, KeyKind::Unknown);
  EXPECT_EQ(parseRegistryKey("/reg", "/reg/services/").kind, KeyKind::Unknown);
  EXPECT_EQ(parseRegistryKey("/reg", "/reg/other").kind, KeyKind::Unknown);
  EXPECT_EQ(serviceKey("/reg", "echo"), "/reg/services/echo");
}

TEST(EtcdLayout, AssemblesTheRegistryInKeyOrder) {
  Registry registry;
  config::ErrorList errors;
  ASSERT_TRUE(assembleRegistry("/reg", validKeys(), registry, errors)) << errors.toString();
  EXPECT_EQ(registry.zones, (std::vector<std::string>{"z1", "z2"}));
  ASSERT_EQ(registry.services.size(), 2u);
  EXPECT_EQ(registry.services[0].name, "api");  // key order: every replica assembles the same registry
  EXPECT_EQ(registry.services[0].instances[0].weight, 2u);
  EXPECT_EQ(registry.services[1].name, "echo");
  ASSERT_EQ(registry.gateways.size(), 1u);
  EXPECT_EQ(registry.gateways[0].name, "edge");
  EXPECT_EQ(registry.gateways[0].port, 10000u);
  EXPECT_EQ(registry.zoneWeight("z2"), 40u);
  EXPECT_EQ(registry.zoneWeight("z1"), 100u);
}

TEST(EtcdLayout, ErrorsNameTheKeyAndThePathInIt) {
  auto keys = validKeys();
  keys["/reg/services/echo"].value = R"({"instances":[{"address":"127.0.0.1","port":70000,"zone":"z9"}]})";
  keys["/reg/zone_weights/z1"].value = "101";
  const auto errors = errorsOf(keys);
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "/reg/services/echo: instances[0].port: must be 1..65535 (got 70000)",
                        "/reg/services/echo: instances[0].zone: 'z9' is not one of zones",
                        "/reg/zone_weights/z1: must be 0..100 (got 101)",
                    }));
}

TEST(EtcdLayout, ReferencesAcrossKeysAreChecked) {
  auto keys = validKeys();
  keys.erase("/reg/services/echo");  // the gateway routes to it
  EXPECT_EQ(errorsOf(keys), (std::vector<std::string>{"/reg/gateways/edge: virtual_hosts[0].routes[0].service: "
                                                      "'echo' is not a service of the registry"}));
  keys = validKeys();
  keys.erase("/reg/zones");
  const auto no_zones = errorsOf(keys);
  ASSERT_FALSE(no_zones.empty());
  EXPECT_EQ(no_zones[0], "/reg/zones: is required");
}

TEST(EtcdLayout, KeyLevelErrors) {
  auto keys = validKeys();
  keys["/reg/services/echo"].value = "{not json";
  keys["/reg/gateways/edge"].value = R"({"name":"other","port":1,"virtual_hosts":[]})";
  keys["/reg/services/list"].value = "[1]";
  keys["/reg/typo/x"].value = "{}";
  const auto errors = errorsOf(keys);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0], "/reg/gateways/edge: name: must be the key's name 'edge' (or left out)");
  EXPECT_EQ(errors[1], "/reg/services/echo: not valid JSON");
  EXPECT_EQ(errors[2], "/reg/services/list: must be a JSON object");
  EXPECT_NE(errors[3].find("/reg/typo/x: not a registry key"), std::string::npos) << errors[3];
}

TEST(EtcdLayout, UnknownFieldInAValueIsNamed) {
  auto keys = validKeys();
  keys["/reg/services/api"].value = R"({"instances":[],"colour":"red"})";
  EXPECT_EQ(errorsOf(keys)[0].substr(0, 26), "/reg/services/api: colour:");
}

json event(const std::string& type, const std::string& key, const std::string& value, int64_t revision) {
  json kv{{"key", base64Encode(key)}, {"mod_revision", std::to_string(revision)}};
  if (!value.empty()) kv["value"] = base64Encode(value);
  json e{{"kv", kv}};
  if (!type.empty()) e["type"] = type;  // the gateway leaves PUT (0) out
  return e;
}

json header(int64_t revision) { return {{"revision", std::to_string(revision)}}; }

TEST(EtcdWatchState, AppliesEventsAndResumesAfterTheLastRevision) {
  EtcdWatchState state;
  state.reset(validKeys(), 7);
  EXPECT_EQ(state.resumeRevision(), 8);
  std::string error;
  EXPECT_EQ(state.onMessage({{"result", {{"header", header(7)}, {"created", true}}}}, error),
            EtcdWatchState::Outcome::Created);
  EXPECT_EQ(state.resumeRevision(), 8);
  const json changes{{"result",
                      {{"header", header(12)},
                       {"events", json::array({event("", "/reg/zone_weights/z1", "10", 8),
                                               event("DELETE", "/reg/zone_weights/z2", "", 9)})}}}};
  EXPECT_EQ(state.onMessage(changes, error), EtcdWatchState::Outcome::Changed);
  EXPECT_EQ(state.keys().at("/reg/zone_weights/z1").value, "10");
  EXPECT_EQ(state.keys().at("/reg/zone_weights/z1").mod_revision, 8);
  EXPECT_FALSE(state.keys().contains("/reg/zone_weights/z2"));
  // The events' revision, not the header's: revisions 10..12 may still come.
  EXPECT_EQ(state.revision(), 9);
  EXPECT_EQ(state.resumeRevision(), 10);
  // A progress notification: everything up to the header's revision is in.
  EXPECT_EQ(state.onMessage({{"result", {{"header", header(15)}}}}, error), EtcdWatchState::Outcome::Progress);
  EXPECT_EQ(state.resumeRevision(), 16);
  Registry registry;
  config::ErrorList errors;
  ASSERT_TRUE(assembleRegistry("/reg", state.keys(), registry, errors)) << errors.toString();
  EXPECT_EQ(registry.zoneWeight("z1"), 10u);
  EXPECT_EQ(registry.zoneWeight("z2"), 100u);
}

TEST(EtcdWatchState, CompactionAsksForAFullRead) {
  EtcdWatchState state;
  state.reset(validKeys(), 7);
  std::string error;
  const json compacted{{"result", {{"header", header(0)}, {"canceled", true}, {"compact_revision", "20"}}}};
  EXPECT_EQ(state.onMessage(compacted, error), EtcdWatchState::Outcome::Compacted);
  EXPECT_EQ(state.compactRevision(), 20);
  // The full read resets the keys and the revision; the watch goes on from there.
  state.reset({{"/reg/zones", {R"(["z1"])", 21}}}, 25);
  EXPECT_EQ(state.resumeRevision(), 26);
  EXPECT_EQ(state.compactRevision(), 0);
  EXPECT_EQ(state.keys().size(), 1u);
}

TEST(EtcdWatchState, CancellationsAndGarbage) {
  EtcdWatchState state;
  state.reset({}, 1);
  std::string error;
  EXPECT_EQ(state.onMessage({{"result", {{"canceled", true}, {"cancel_reason", "permission denied"}}}}, error),
            EtcdWatchState::Outcome::Canceled);
  EXPECT_EQ(error, "permission denied");
  EXPECT_EQ(state.onMessage({{"error", {{"grpc_code", 14}, {"message", "etcdserver: no leader"}}}}, error),
            EtcdWatchState::Outcome::Canceled);
  EXPECT_EQ(error, "etcdserver: no leader");
  EXPECT_EQ(state.onMessage(json::array(), error), EtcdWatchState::Outcome::Malformed);
  EXPECT_EQ(state.onMessage({{"result", {{"events", json::array({{{"kv", {{"key", "%%"}}}}})}}}}, error),
            EtcdWatchState::Outcome::Malformed);
  EXPECT_EQ(state.resumeRevision(), 2);
}

TEST(EtcdGateway, Encodings) {
  for (const std::string& text :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", "/reg/x", std::string("\0\xff", 2)}) {
    std::string back;
    ASSERT_TRUE(base64Decode(base64Encode(text), back));
    EXPECT_EQ(back, text);
  }
  EXPECT_EQ(base64Encode("/a/b"), "L2EvYg==");
  std::string out;
  EXPECT_FALSE(base64Decode("L2E=x", out));
  EXPECT_EQ(prefixRangeEnd("/reg/"), "/reg0");
  EXPECT_EQ(jsonInt(json{{"r", "42"}}, "r"), 42);
  EXPECT_EQ(jsonInt(json{{"r", 42}}, "r"), 42);
  EXPECT_EQ(jsonInt(json{{"r", "x"}}, "r"), 0);
  EXPECT_EQ(jsonInt(json::object(), "r"), 0);
  EtcdKeys keys;
  std::string error;
  ASSERT_TRUE(readRangeKvs(json::parse(R"({"header":{"revision":"2"},"kvs":[{"key":"L2EvYg==","create_revision":"2",
      "mod_revision":"2","version":"1","value":"e30="}],"count":"1"})"),
                           keys, error));
  EXPECT_EQ(keys.at("/a/b").value, "{}");
  EXPECT_EQ(keys.at("/a/b").mod_revision, 2);
}

TEST(EtcdSpec, Parse) {
  EtcdSpec spec;
  std::string error;
  ASSERT_TRUE(parseEtcdSpec("etcd://127.0.0.1:2379,127.0.0.1:2380,[::1]:2381/sluice/", spec, error)) << error;
  EXPECT_EQ(spec.endpoints.size(), 3u);
  EXPECT_EQ(spec.endpoints[2].port(), 2381);
  EXPECT_EQ(spec.prefix, "/sluice");
  EXPECT_FALSE(parseEtcdSpec("etcd://127.0.0.1:2379", spec, error));
  EXPECT_NE(error.find("no /PREFIX"), std::string::npos);
  EXPECT_FALSE(parseEtcdSpec("etcd://127.0.0.1:2379/", spec, error));
  EXPECT_FALSE(parseEtcdSpec("etcd://localhost:2379/x", spec, error));
  EXPECT_NE(error.find("'localhost:2379' is not IP:PORT"), std::string::npos) << error;
}

TEST(EtcdWrites, InstanceEditsAndPaths) {
  std::string out;
  std::vector<std::string> errors;
  const std::string value = R"({"protocol":"http1","instances":[{"address":"127.0.0.1","port":1,"zone":"z1"}]})";
  ASSERT_TRUE(changeInstances(value, "127.0.0.1", 2, json{{"zone", "z2"}, {"weight", 3}}, out, errors));
  EXPECT_EQ(json::parse(out)["instances"].size(), 2u);
  EXPECT_EQ(json::parse(out)["instances"][1]["port"], 2);
  ASSERT_TRUE(changeInstances(out, "127.0.0.1", 2, json{{"zone", "z1"}}, out, errors));  // a re-register replaces
  EXPECT_EQ(json::parse(out)["instances"].size(), 2u);
  EXPECT_EQ(json::parse(out)["instances"][1]["zone"], "z1");
  ASSERT_TRUE(changeInstances(out, "127.0.0.1", 1, std::nullopt, out, errors));
  EXPECT_EQ(json::parse(out)["instances"].size(), 1u);
  EXPECT_FALSE(changeInstances(out, "127.0.0.1", 1, std::nullopt, out, errors));
  EXPECT_TRUE(errors.empty());  // not there: a 404
  EXPECT_FALSE(changeInstances("[]", "127.0.0.1", 1, std::nullopt, out, errors));
  EXPECT_EQ(errors.size(), 1u);

  std::string address;
  uint32_t port = 0;
  ASSERT_TRUE(parseInstanceSegment("10.0.0.1:8080", address, port));
  EXPECT_EQ(address, "10.0.0.1");
  EXPECT_EQ(port, 8080u);
  ASSERT_TRUE(parseInstanceSegment("[::1]:80", address, port));
  EXPECT_EQ(address, "::1");
  EXPECT_FALSE(parseInstanceSegment("10.0.0.1:0", address, port));
  EXPECT_FALSE(parseInstanceSegment("10.0.0.1:70000", address, port));
  EXPECT_FALSE(parseInstanceSegment("host:80", address, port));
  EXPECT_FALSE(parseInstanceSegment("10.0.0.1", address, port));
}

}  // namespace
}  // namespace sluice::control
