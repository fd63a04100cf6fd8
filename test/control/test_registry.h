// Registries for the control plane's tests, parsed from YAML.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "control/registry.h"

namespace sluice::control::test {

inline std::shared_ptr<const Registry> registryOf(const std::string& yaml) {
  auto registry = std::make_shared<Registry>();
  config::ErrorList errors;
  EXPECT_TRUE(parseRegistry(yaml, "test", *registry, errors)) << errors.toString();
  return registry;
}

// Two zones, one HTTP/1 service with an instance in each, an edge gateway.
// `extra_instance` goes into echo's instances; `weights` replaces zone_weights.
inline std::string twoZones(const std::string& extra_instance = "", const std::string& weights = "{}") {
  return "zones: [z1, z2]\n"
         "services:\n"
         "  - name: echo\n"
         "    instances:\n"
         "      - { address: 10.0.0.1, port: 80, zone: z1 }\n"
         "      - { address: 10.0.0.2, port: 80, zone: z2 }\n" +
         (extra_instance.empty() ? "" : "      - " + extra_instance + "\n") +
         "  - name: other\n"
         "    instances: [ { address: 10.0.1.1, port: 80, zone: z1 } ]\n"
         "gateways:\n"
         "  - name: edge\n"
         "    port: 10000\n"
         "    virtual_hosts:\n"
         "      - domains: [\"*\"]\n"
         "        routes: [ { prefix: /other, service: other }, { prefix: /, service: echo } ]\n"
         "zone_weights: " +
         weights + "\n";
}

}  // namespace sluice::control::test
