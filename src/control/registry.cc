#include "control/registry.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <initializer_list>
#include <set>

#include "config/input_limits.h"
#include "config/semantic_validator.h"

namespace sluice::control {

using config::childPath;
using config::ErrorList;
using config::indexPath;
using config::keyPath;

std::string_view protocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::Http1:
      return "http1";
    case Protocol::Http2:
      return "http2";
    case Protocol::Grpc:
      return "grpc";
  }
  return "http1";
}

std::string_view healthName(Health health) {
  switch (health) {
    case Health::Healthy:
      return "healthy";
    case Health::Degraded:
      return "degraded";
    case Health::Draining:
      return "draining";
    case Health::Unhealthy:
      return "unhealthy";
  }
  return "healthy";
}

uint32_t Registry::zoneWeight(const std::string& zone) const {
  const auto it = zone_weights.find(zone);
  return it == zone_weights.end() ? kDefaultZoneWeight : it->second;
}

const Service* Registry::findService(std::string_view name) const {
  for (const auto& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const Gateway* Registry::findGateway(std::string_view name) const {
  for (const auto& g : gateways) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

namespace {

// One document's reader: every helper reports into `errors_` and carries on,
// so that one pass finds every error. yaml-cpp throws on conversions; the
// throws stay inside the helpers.
class Reader {
 public:
  explicit Reader(ErrorList& errors) : errors_(errors) {}

  // Every key of `map` must be one of `known`.
  bool checkKeys(const YAML::Node& map, const std::string& path, std::initializer_list<std::string_view> known) {
    if (!map.IsMap()) {
      errors_.add(path, "must be a mapping");
      return false;
    }
    for (const auto& entry : map) {
      const std::string key = scalarText(entry.first);
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string list;
        for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        errors_.add(childPath(path, key), "unknown key (expected one of: " + list + ")");
      }
    }
    return true;
  }

  bool string(const YAML::Node& node, const std::string& path, std::string& out, bool required) {
    if (!node) {
      if (required) errors_.add(path, "is required");
      return false;
    }
    if (!node.IsScalar()) {
      errors_.add(path, "must be a string");
      return false;
    }
    out = node.Scalar();
    if (required && out.empty()) {
      errors_.add(path, "must not be empty");
      return false;
    }
    return true;
  }

  bool integer(const YAML::Node& node, const std::string& path, uint32_t min, uint32_t max, uint32_t& out,
               bool required) {
    if (!node) {
      if (required) errors_.add(path, "is required");
      return false;
    }
    const std::string range = "must be " + std::to_string(min) + ".." + std::to_string(max);
    if (!node.IsScalar()) {
      errors_.add(path, range);
      return false;
    }
    const std::string& text = node.Scalar();
    if (text.empty() || text.size() > 12 ||
        !std::all_of(text.begin() + (text[0] == '-' ? 1 : 0), text.end(),
                     [](char c) { return c >= '0' && c <= '9'; }) ||
        text == "-") {
      errors_.add(path, range + " (got '" + text + "')");
      return false;
    }
    const long long value = std::stoll(text);
    if (value < min || value > max) {
      errors_.add(path, range + " (got " + text + ")");
      return false;
    }
    out = static_cast<uint32_t>(value);
    return true;
  }

  // A sequence, or an error; an absent node is an empty sequence unless `required`.
  bool sequence(const YAML::Node& node, const std::string& path, bool required) {
    if (!node || node.IsNull()) {
      if (required) errors_.add(path, "is required");
      return false;
    }
    if (!node.IsSequence()) {
      errors_.add(path, "must be a list");
      return false;
    }
    if (required && node.size() == 0) {
      errors_.add(path, "must not be empty");
      return false;
    }
    return true;
  }

  // Names end up in cluster names (`<service>.<zone>`) and runtime keys: no
  // dots, so that both split unambiguously.
  void checkName(const std::string& name, const std::string& path) {
    if (name.empty()) return;
    const bool ok =
        name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        });
    if (!ok) errors_.add(path, "'" + name + "' must be 1..128 characters of [A-Za-z0-9_-]");
  }

  static std::string scalarText(const YAML::Node& node) { return node.IsScalar() ? node.Scalar() : "?"; }

  ErrorList& errors_;
};

void readZones(Reader& r, const YAML::Node& node, Registry& out) {
  if (!r.sequence(node, "zones", true)) return;
  std::set<std::string> seen;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = indexPath("zones", i);
    std::string zone;
    if (!r.string(node[i], path, zone, true)) continue;
    r.checkName(zone, path);
    if (!seen.insert(zone).second) r.errors_.add(path, "zone '" + zone + "' is listed twice");
    out.zones.push_back(zone);
  }
}

void readInstance(Reader& r, const YAML::Node& node, const std::string& path, const std::set<std::string>& zones,
                  Instance& out) {
  if (!r.checkKeys(node, path, {"address", "port", "zone", "weight", "health", "metadata"})) return;
  if (r.string(node["address"], childPath(path, "address"), out.address, true) && !config::isIpLiteral(out.address)) {
    r.errors_.add(childPath(path, "address"), "'" + out.address + "' is not an IP address");
  }
  r.integer(node["port"], childPath(path, "port"), 1, 65535, out.port, true);
  if (r.string(node["zone"], childPath(path, "zone"), out.zone, true) && !zones.contains(out.zone)) {
    r.errors_.add(childPath(path, "zone"), "'" + out.zone + "' is not one of zones");
  }
  r.integer(node["weight"], childPath(path, "weight"), 1, 1000000, out.weight, false);
  std::string health;
  if (r.string(node["health"], childPath(path, "health"), health, false)) {
    if (health == "healthy") {
      out.health = Health::Healthy;
    } else if (health == "degraded") {
      out.health = Health::Degraded;
    } else if (health == "draining") {
      out.health = Health::Draining;
    } else if (health == "unhealthy") {
      out.health = Health::Unhealthy;
    } else {
      r.errors_.add(childPath(path, "health"),
                    "'" + health + "' must be one of: healthy, degraded, draining, unhealthy");
    }
  }
  const YAML::Node metadata = node["metadata"];
  if (metadata && !metadata.IsNull()) {
    if (!metadata.IsMap()) {
      r.errors_.add(childPath(path, "metadata"), "must be a mapping of strings");
    } else {
      for (const auto& entry : metadata) {
        const std::string key = Reader::scalarText(entry.first);
        std::string value;
        if (r.string(entry.second, keyPath(childPath(path, "metadata"), key), value, false)) {
          out.metadata[key] = value;
        }
      }
    }
  }
}

void readServices(Reader& r, const YAML::Node& node, const std::set<std::string>& zones, Registry& out) {
  if (!r.sequence(node, "services", false)) return;
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = indexPath("services", i);
    Service service;
    if (!r.checkKeys(node[i], path, {"name", "protocol", "instances"})) continue;
    if (r.string(node[i]["name"], childPath(path, "name"), service.name, true)) {
      r.checkName(service.name, childPath(path, "name"));
      if (!names.insert(service.name).second) {
        r.errors_.add(childPath(path, "name"), "service '" + service.name + "' is defined twice");
      }
    }
    std::string protocol;
    if (r.string(node[i]["protocol"], childPath(path, "protocol"), protocol, false)) {
      if (protocol == "http1") {
        service.protocol = Protocol::Http1;
      } else if (protocol == "http2") {
        service.protocol = Protocol::Http2;
      } else if (protocol == "grpc") {
        service.protocol = Protocol::Grpc;
      } else {
        r.errors_.add(childPath(path, "protocol"), "'" + protocol + "' must be one of: http1, http2, grpc");
      }
    }
    const YAML::Node instances = node[i]["instances"];
    const std::string ipath = childPath(path, "instances");
    if (r.sequence(instances, ipath, false)) {
      std::set<std::pair<std::string, uint32_t>> endpoints;
      for (size_t j = 0; j < instances.size(); ++j) {
        Instance instance;
        const size_t before = r.errors_.size();
        readInstance(r, instances[j], indexPath(ipath, j), zones, instance);
        if (r.errors_.size() == before && !endpoints.insert({instance.address, instance.port}).second) {
          r.errors_.add(indexPath(ipath, j), instance.address + ":" + std::to_string(instance.port) +
                                                 " is listed twice in service '" + service.name + "'");
        }
        service.instances.push_back(std::move(instance));
      }
    }
    out.services.push_back(std::move(service));
  }
}

void readRoutes(Reader& r, const YAML::Node& node, const std::string& path, const std::set<std::string>& services,
                VirtualHost& out) {
  if (!r.sequence(node, path, true)) return;
  for (size_t m = 0; m < node.size(); ++m) {
    const std::string rpath = indexPath(path, m);
    Route route;
    if (!r.checkKeys(node[m], rpath, {"prefix", "service"})) continue;
    if (r.string(node[m]["prefix"], childPath(rpath, "prefix"), route.prefix, true) && route.prefix[0] != '/') {
      r.errors_.add(childPath(rpath, "prefix"), "'" + route.prefix + "' must start with '/'");
    }
    if (r.string(node[m]["service"], childPath(rpath, "service"), route.service, true) &&
        !services.contains(route.service)) {
      r.errors_.add(childPath(rpath, "service"), "'" + route.service + "' is not a service of the registry");
    }
    out.routes.push_back(std::move(route));
  }
}

void readGateways(Reader& r, const YAML::Node& node, const std::set<std::string>& services, Registry& out) {
  if (!r.sequence(node, "gateways", false)) return;
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = indexPath("gateways", i);
    Gateway gateway;
    if (!r.checkKeys(node[i], path, {"name", "port", "address", "virtual_hosts"})) continue;
    if (r.string(node[i]["name"], childPath(path, "name"), gateway.name, true)) {
      r.checkName(gateway.name, childPath(path, "name"));
      if (!names.insert(gateway.name).second) {
        r.errors_.add(childPath(path, "name"), "gateway '" + gateway.name + "' is defined twice");
      }
    }
    r.integer(node[i]["port"], childPath(path, "port"), 1, 65535, gateway.port, true);
    if (r.string(node[i]["address"], childPath(path, "address"), gateway.address, false) &&
        !config::isIpLiteral(gateway.address)) {
      r.errors_.add(childPath(path, "address"), "'" + gateway.address + "' is not an IP address");
    }
    const YAML::Node hosts = node[i]["virtual_hosts"];
    const std::string hpath = childPath(path, "virtual_hosts");
    if (r.sequence(hosts, hpath, true)) {
      std::set<std::string> domains;
      for (size_t k = 0; k < hosts.size(); ++k) {
        const std::string vpath = indexPath(hpath, k);
        VirtualHost host;
        if (!r.checkKeys(hosts[k], vpath, {"name", "domains", "routes"})) continue;
        if (r.string(hosts[k]["name"], childPath(vpath, "name"), host.name, false)) {
          r.checkName(host.name, childPath(vpath, "name"));
        }
        if (host.name.empty()) host.name = gateway.name + "-" + std::to_string(k);
        const YAML::Node list = hosts[k]["domains"];
        const std::string dpath = childPath(vpath, "domains");
        if (r.sequence(list, dpath, true)) {
          for (size_t d = 0; d < list.size(); ++d) {
            std::string domain;
            if (!r.string(list[d], indexPath(dpath, d), domain, true)) continue;
            if (!domains.insert(domain).second) {
              r.errors_.add(indexPath(dpath, d),
                            "domain '" + domain + "' is used twice in gateway '" + gateway.name + "'");
            }
            host.domains.push_back(std::move(domain));
          }
        }
        readRoutes(r, hosts[k]["routes"], childPath(vpath, "routes"), services, host);
        gateway.virtual_hosts.push_back(std::move(host));
      }
    }
    out.gateways.push_back(std::move(gateway));
  }
}

void readZoneWeights(Reader& r, const YAML::Node& node, const std::set<std::string>& zones, Registry& out) {
  if (!node || node.IsNull()) return;
  if (!node.IsMap()) {
    r.errors_.add("zone_weights", "must be a mapping of zone to weight");
    return;
  }
  for (const auto& entry : node) {
    const std::string zone = Reader::scalarText(entry.first);
    const std::string path = keyPath("zone_weights", zone);
    if (!zones.contains(zone)) r.errors_.add(path, "'" + zone + "' is not one of zones");
    uint32_t weight = 0;
    if (r.integer(entry.second, path, 0, 100, weight, true)) out.zone_weights[zone] = weight;
  }
}

}  // namespace

bool parseRegistry(std::string_view text, std::string_view source, Registry& out, ErrorList& errors) {
  const size_t before = errors.size();
  YAML::Node root;
  if (!config::loadBoundedYaml(text, source, root, errors)) return false;
  if (!root || root.IsNull()) {
    errors.add("", "the registry is empty (it needs at least `zones`)");
    return false;
  }
  Reader r(errors);
  if (!r.checkKeys(root, "", {"zones", "services", "gateways", "zone_weights"})) return false;
  Registry registry;
  readZones(r, root["zones"], registry);
  const std::set<std::string> zones(registry.zones.begin(), registry.zones.end());
  readServices(r, root["services"], zones, registry);
  std::set<std::string> services;
  for (const auto& s : registry.services) services.insert(s.name);
  readGateways(r, root["gateways"], services, registry);
  readZoneWeights(r, root["zone_weights"], zones, registry);
  if (errors.size() != before) return false;
  out = std::move(registry);
  return true;
}

bool loadRegistryFile(const std::string& path, Registry& out, ErrorList& errors) {
  std::string text;
  if (!config::readConfigFile(path, text, errors)) return false;
  return parseRegistry(text, path, out, errors);
}

}  // namespace sluice::control
