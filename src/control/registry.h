// The service registry: zones, services with their instances, gateways
// (edge listeners) and zone weights, as read from the registry schema
// (docs/ARCHITECTURE.md, "sluice-control"). A Registry is a plain immutable
// value once parsed: the control plane shares one `shared_ptr<const Registry>`
// per accepted version. parseRegistry() validates the whole document and
// reports every error with its path (`services[0].instances[2].port`).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"

namespace sluice::control {

enum class Protocol { Http1, Http2, Grpc };
std::string_view protocolName(Protocol protocol);

enum class Health { Healthy, Degraded, Draining, Unhealthy };
std::string_view healthName(Health health);

struct Instance {
  std::string address;  // an IP literal
  uint32_t port = 0;
  std::string zone;     // one of Registry::zones
  uint32_t weight = 1;  // the endpoint's load_balancing_weight
  Health health = Health::Healthy;
  std::map<std::string, std::string> metadata;
};

struct Service {
  std::string name;
  Protocol protocol = Protocol::Http1;
  std::vector<Instance> instances;
};

struct Route {
  std::string prefix;
  std::string service;  // a Service::name
};

struct VirtualHost {
  std::string name;  // optional in the file; "<gateway>-<index>" when absent
  std::vector<std::string> domains;
  std::vector<Route> routes;
};

struct Gateway {
  std::string name;  // matched against node.cluster
  uint32_t port = 0;
  std::string address = "0.0.0.0";
  std::vector<VirtualHost> virtual_hosts;
};

struct Registry {
  std::vector<std::string> zones;
  std::vector<Service> services;
  std::vector<Gateway> gateways;
  std::map<std::string, uint32_t> zone_weights;  // as written; zoneWeight() applies the default

  static constexpr uint32_t kDefaultZoneWeight = 100;
  uint32_t zoneWeight(const std::string& zone) const;
  const Service* findService(std::string_view name) const;
  const Gateway* findGateway(std::string_view name) const;
};

// Parses and validates `text` (YAML or JSON). False with every error in
// `errors` (paths from the document's root; `source` names the document in
// syntax errors). `out` is only written when the whole document is valid.
bool parseRegistry(std::string_view text, std::string_view source, Registry& out, config::ErrorList& errors);

// Reads the file at `path` and parses it as above.
bool loadRegistryFile(const std::string& path, Registry& out, config::ErrorList& errors);

}  // namespace sluice::control
