#include "control/registry.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <asio/io_context.hpp>

#include "control/registry_source.h"

namespace sluice::control {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> errorsOf(const std::string& yaml) {
  Registry registry;
  config::ErrorList errors;
  EXPECT_FALSE(parseRegistry(yaml, "test", registry, errors));
  std::vector<std::string> out;
  for (const auto& e : errors.errors()) out.push_back(e.toString());
  return out;
}

TEST(Registry, ExampleRegistryIsValid) {
  Registry registry;
  config::ErrorList errors;
  ASSERT_TRUE(loadRegistryFile(SLUICE_SOURCE_DIR "/examples/control/registry.yaml", registry, errors))
      << errors.toString();
  EXPECT_EQ(registry.zones.size(), 2u);
  ASSERT_EQ(registry.services.size(), 1u);
  EXPECT_EQ(registry.services[0].instances.size(), 2u);
  ASSERT_EQ(registry.gateways.size(), 1u);
  EXPECT_EQ(registry.gateways[0].virtual_hosts[0].routes[0].service, "echo");
}

TEST(Registry, ReportsEveryErrorWithItsPath) {
  const auto errors = errorsOf(R"(
zones: [a, a]
services:
  - name: echo
    colour: red
    instances:
      - { address: 127.0.0.1, port: 8081, zone: a }
      - { address: nope, port: 0, zone: c, weight: 0, health: sick }
      - { address: 127.0.0.1, port: 70000, zone: a }
      - { address: 127.0.0.1, port: 8081, zone: a }
  - name: echo
    protocol: spdy
gateways:
  - name: edge
    port: 10000
    address: localhost
    virtual_hosts:
      - domains: ["*"]
        routes: [ { prefix: "x", service: missing } ]
      - domains: ["*"]
        routes: []
zone_weights: { a: 101, q: 5 }
)");
  const std::vector<std::string> expected = {
      "zones[1]: zone 'a' is listed twice",
      "services[0].colour: unknown key (expected one of: name, protocol, instances)",
      "services[0].instances[1].address: 'nope' is not an IP address",
      "services[0].instances[1].port: must be 1..65535 (got 0)",
      "services[0].instances[1].zone: 'c' is not one of zones",
      "services[0].instances[1].weight: must be 1..1000000 (got 0)",
      "services[0].instances[1].health: 'sick' must be one of: healthy, degraded, draining, unhealthy",
      "services[0].instances[2].port: must be 1..65535 (got 70000)",
      "services[0].instances[3]: 127.0.0.1:8081 is listed twice in service 'echo'",
      "services[1].name: service 'echo' is defined twice",
      "services[1].protocol: 'spdy' must be one of: http1, http2, grpc",
      "gateways[0].address: 'localhost' is not an IP address",
      "gateways[0].virtual_hosts[0].routes[0].prefix: 'x' must start with '/'",
      "gateways[0].virtual_hosts[0].routes[0].service: 'missing' is not a service of the registry",
      "gateways[0].virtual_hosts[1].domains[0]: domain '*' is used twice in gateway 'edge'",
      "gateways[0].virtual_hosts[1].routes: must not be empty",
      "zone_weights[\"a\"]: must be 0..100 (got 101)",
      "zone_weights[\"q\"]: 'q' is not one of zones",
  };
  EXPECT_EQ(errors, expected);
}

TEST(Registry, RejectsUnknownTopLevelKeyByName) {
  EXPECT_EQ(
      errorsOf("zones: [a]\nservice: []\n"),
      std::vector<std::string>{"service: unknown key (expected one of: zones, services, gateways, zone_weights)"});
}

TEST(Registry, RequiresZones) { EXPECT_EQ(errorsOf("services: []\n"), std::vector<std::string>{"zones: is required"}); }

TEST(Registry, RejectsDotsInNamesSoClusterNamesSplit) {
  EXPECT_EQ(errorsOf("zones: [a.b]\n"),
            std::vector<std::string>{"zones[0]: 'a.b' must be 1..128 characters of [A-Za-z0-9_-]"});
}

TEST(Registry, SyntaxErrorIsReportedAndNothingIsRead) {
  const auto errors = errorsOf("zones: [a\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("syntax error"), std::string::npos) << errors[0];
}

TEST(Registry, AppliesDefaults) {
  Registry registry;
  config::ErrorList errors;
  ASSERT_TRUE(parseRegistry(R"(
zones: [a, b]
services: [ { name: s, instances: [ { address: "::1", port: 1, zone: a } ] } ]
gateways: [ { name: g, port: 80, virtual_hosts: [ { domains: ["*"], routes: [ { prefix: /, service: s } ] } ] } ]
zone_weights: { b: 0 }
)",
                            "test", registry, errors))
      << errors.toString();
  const auto& instance = registry.services[0].instances[0];
  EXPECT_EQ(registry.services[0].protocol, Protocol::Http1);
  EXPECT_EQ(instance.weight, 1u);
  EXPECT_EQ(instance.health, Health::Healthy);
  EXPECT_EQ(registry.gateways[0].address, "0.0.0.0");
  EXPECT_EQ(registry.gateways[0].virtual_hosts[0].name, "g-0");
  EXPECT_EQ(registry.zoneWeight("a"), 100u);
  EXPECT_EQ(registry.zoneWeight("b"), 0u);
}

// The file source: a bad update is reported and never replaces the good one;
// the next good one is delivered. Real inotify, files replaced by rename.
TEST(FileRegistrySource, RejectsABadUpdateThenTakesTheNextGoodOne) {
  const fs::path dir = fs::temp_directory_path() / ("registry-source-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    fs::rename(dir / name, dir / "registry.yaml");
  };
  write("first", "zones: [a]\n");
  asio::io_context io;
  FileRegistrySource source(io, (dir / "registry.yaml").string());
  std::vector<std::shared_ptr<const Registry>> accepted;
  std::vector<std::string> rejected;
  std::shared_ptr<const Registry> first;
  std::string error;
  ASSERT_TRUE(source.start(
      [&](std::shared_ptr<const Registry> r) {
        accepted.push_back(std::move(r));
        io.stop();
      },
      [&](const std::string& e) {
        rejected.push_back(e);
        io.stop();
      },
      first, error))
      << error;
  ASSERT_TRUE(first);
  EXPECT_EQ(first->zones, std::vector<std::string>{"a"});

  write("bad", "zones: [a]\nservices: [ { name: s, instances: [ { address: 1.2.3.4, port: 0, zone: a } ] } ]\n");
  io.run_for(std::chrono::seconds(10));
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_NE(rejected[0].find("services[0].instances[0].port: must be 1..65535"), std::string::npos) << rejected[0];
  EXPECT_TRUE(accepted.empty());

  io.restart();
  write("good", "zones: [a, b]\n");
  io.run_for(std::chrono::seconds(10));
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(accepted[0]->zones, (std::vector<std::string>{"a", "b"}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sluice::control
