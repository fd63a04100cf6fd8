#include "config/supported_fields.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "config/any_util.h"

namespace sluice::config {
namespace {

namespace pb = google::protobuf;

// The table. Keep it grouped by message, in the order a bootstrap reads.
// A field joins when sluice implements it end to end (loaded, validated and
// honoured); the issue that implements it adds it here and to the tests.
constexpr SupportedField kFields[] = {
    // Bootstrap
    {"envoy.config.bootstrap.v3.Bootstrap", "node", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap", "static_resources", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap", "dynamic_resources", "", "file-based LDS and CDS"},
    {"envoy.config.bootstrap.v3.Bootstrap", "admin", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap", "layered_runtime", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap", "stats_config", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap.StaticResources", "listeners", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap.StaticResources", "clusters", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap.DynamicResources", "lds_config", "", ""},
    {"envoy.config.bootstrap.v3.Bootstrap.DynamicResources", "cds_config", "", ""},
    {"envoy.config.bootstrap.v3.Admin", "address", "", ""},
    // Node
    {"envoy.config.core.v3.Node", "id", "", "overridden by --service-node"},
    {"envoy.config.core.v3.Node", "cluster", "", "overridden by --service-cluster"},
    {"envoy.config.core.v3.Node", "locality", "", "zone overridden by --service-zone"},
    {"envoy.config.core.v3.Node", "metadata", "", ""},
    {"envoy.config.core.v3.Locality", "region", "", ""},
    {"envoy.config.core.v3.Locality", "zone", "", ""},
    {"envoy.config.core.v3.Locality", "sub_zone", "", ""},
    // Config sources
    {"envoy.config.core.v3.ConfigSource", "path_config_source", "", "watched with inotify; replace files by rename"},
    {"envoy.config.core.v3.ConfigSource", "resource_api_version", "V3", ""},
    {"envoy.config.core.v3.PathConfigSource", "path", "", ""},
    {"envoy.config.core.v3.PathConfigSource", "watched_directory", "", ""},
    {"envoy.config.core.v3.WatchedDirectory", "path", "", ""},
    // Runtime
    {"envoy.config.bootstrap.v3.LayeredRuntime", "layers", "", ""},
    {"envoy.config.bootstrap.v3.RuntimeLayer", "name", "", ""},
    {"envoy.config.bootstrap.v3.RuntimeLayer", "static_layer", "", ""},
    {"envoy.config.bootstrap.v3.RuntimeLayer", "disk_layer", "", ""},
    {"envoy.config.bootstrap.v3.RuntimeLayer", "admin_layer", "", ""},
    {"envoy.config.bootstrap.v3.RuntimeLayer.DiskLayer", "symlink_root", "", ""},
    {"envoy.config.bootstrap.v3.RuntimeLayer.DiskLayer", "subdirectory", "", ""},
    {"envoy.config.bootstrap.v3.RuntimeLayer.DiskLayer", "append_service_cluster", "", ""},
    // Stats
    {"envoy.config.metrics.v3.StatsConfig", "use_all_default_tags", "", ""},
    {"envoy.config.metrics.v3.StatsConfig", "stats_matcher", "", ""},
    {"envoy.config.metrics.v3.StatsMatcher", "reject_all", "", ""},
    {"envoy.config.metrics.v3.StatsMatcher", "exclusion_list", "", ""},
    {"envoy.config.metrics.v3.StatsMatcher", "inclusion_list", "", ""},
    {"envoy.type.matcher.v3.ListStringMatcher", "patterns", "", ""},
    {"envoy.type.matcher.v3.StringMatcher", "exact", "", ""},
    {"envoy.type.matcher.v3.StringMatcher", "prefix", "", ""},
    {"envoy.type.matcher.v3.StringMatcher", "suffix", "", ""},
    {"envoy.type.matcher.v3.StringMatcher", "contains", "", ""},
    {"envoy.type.matcher.v3.StringMatcher", "safe_regex", "", "RE2"},
    {"envoy.type.matcher.v3.StringMatcher", "ignore_case", "", ""},
    {"envoy.type.matcher.v3.RegexMatcher", "regex", "", "RE2 syntax"},
    {"envoy.type.matcher.v3.RegexMatcher", "google_re2", "", "accepted for compatibility; RE2 is the only engine"},
    // Addresses
    {"envoy.config.core.v3.Address", "socket_address", "", ""},
    {"envoy.config.core.v3.SocketAddress", "protocol", "TCP", ""},
    {"envoy.config.core.v3.SocketAddress", "address", "", "an IP literal; a host name only in DNS clusters"},
    {"envoy.config.core.v3.SocketAddress", "port_value", "", ""},
    // Listeners
    {"envoy.config.listener.v3.Listener", "name", "", ""},
    {"envoy.config.listener.v3.Listener", "address", "", ""},
    {"envoy.config.listener.v3.Listener", "filter_chains", "", ""},
    {"envoy.config.listener.v3.FilterChain", "filters", "", ""},
    {"envoy.config.listener.v3.Filter", "name", "", ""},
    {"envoy.config.listener.v3.Filter", "typed_config", "", ""},
    // HTTP connection manager
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "stat_prefix", "", ""},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "codec_type", "AUTO|HTTP1",
     ""},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "route_config", "", ""},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "http_filters", "", ""},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter", "name", "", ""},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter", "typed_config", "", ""},
    // Routes
    {"envoy.config.route.v3.RouteConfiguration", "name", "", ""},
    {"envoy.config.route.v3.RouteConfiguration", "virtual_hosts", "", ""},
    {"envoy.config.route.v3.VirtualHost", "name", "", ""},
    {"envoy.config.route.v3.VirtualHost", "domains", "", ""},
    {"envoy.config.route.v3.VirtualHost", "routes", "", ""},
    {"envoy.config.route.v3.Route", "name", "", ""},
    {"envoy.config.route.v3.Route", "match", "", ""},
    {"envoy.config.route.v3.Route", "route", "", ""},
    {"envoy.config.route.v3.RouteMatch", "prefix", "", ""},
    {"envoy.config.route.v3.RouteMatch", "path", "", ""},
    {"envoy.config.route.v3.RouteAction", "cluster", "", ""},
    {"envoy.config.route.v3.RouteAction", "weighted_clusters", "", ""},
    {"envoy.config.route.v3.RouteAction", "timeout", "", ""},
    {"envoy.config.route.v3.WeightedCluster", "clusters", "", ""},
    {"envoy.config.route.v3.WeightedCluster", "total_weight", "", "when set, the weights must add up to it"},
    {"envoy.config.route.v3.WeightedCluster.ClusterWeight", "name", "", ""},
    {"envoy.config.route.v3.WeightedCluster.ClusterWeight", "weight", "", ""},
    // Clusters
    {"envoy.config.cluster.v3.Cluster", "name", "", ""},
    {"envoy.config.cluster.v3.Cluster", "type", "STATIC|STRICT_DNS|LOGICAL_DNS", ""},
    {"envoy.config.cluster.v3.Cluster", "connect_timeout", "", "default 5s"},
    {"envoy.config.cluster.v3.Cluster", "lb_policy", "ROUND_ROBIN|LEAST_REQUEST|RANDOM|RING_HASH|MAGLEV", ""},
    {"envoy.config.cluster.v3.Cluster", "load_assignment", "", ""},
    {"envoy.config.endpoint.v3.ClusterLoadAssignment", "cluster_name", "", ""},
    {"envoy.config.endpoint.v3.ClusterLoadAssignment", "endpoints", "", ""},
    {"envoy.config.endpoint.v3.LocalityLbEndpoints", "locality", "", ""},
    {"envoy.config.endpoint.v3.LocalityLbEndpoints", "lb_endpoints", "", ""},
    {"envoy.config.endpoint.v3.LocalityLbEndpoints", "load_balancing_weight", "", ""},
    {"envoy.config.endpoint.v3.LbEndpoint", "endpoint", "", ""},
    {"envoy.config.endpoint.v3.LbEndpoint", "load_balancing_weight", "", "default 1"},
    {"envoy.config.endpoint.v3.Endpoint", "address", "", ""},
};

constexpr SupportedExtension kExtensions[] = {
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
     "envoy.filters.network.http_connection_manager", "listener filter chains (network filter)"},
    {"envoy.extensions.filters.http.router.v3.Router", "envoy.filters.http.router",
     "HTTP filters of the connection manager (must be last)"},
};

struct Index {
  std::map<std::pair<std::string_view, std::string_view>, const SupportedField*> fields;
  std::set<std::string_view> extensions;
};

const Index& index() {
  static const Index built = [] {
    Index i;
    for (const auto& f : kFields) i.fields[{f.message, f.field}] = &f;
    for (const auto& e : kExtensions) i.extensions.insert(e.type);
    return i;
  }();
  return built;
}

bool enumValueAllowed(std::string_view allowed, std::string_view name) {
  if (allowed.empty()) return true;
  size_t start = 0;
  while (start <= allowed.size()) {
    const size_t bar = allowed.find('|', start);
    const auto token = allowed.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    if (token == name) return true;
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return false;
}

std::string listOf(std::string_view allowed) {
  std::string out(allowed);
  std::replace(out.begin(), out.end(), '|', ',');
  std::string spaced;
  for (char c : out) {
    spaced += c;
    if (c == ',') spaced += ' ';
  }
  return spaced;
}

void checkEnum(const pb::Message& msg, const pb::FieldDescriptor* field, const SupportedField& entry,
               const std::string& path, ErrorList& errors) {
  const pb::Reflection* r = msg.GetReflection();
  auto check = [&](int number, const std::string& at) {
    const auto* value = field->enum_type()->FindValueByNumber(number);
    const std::string name = value ? value->name() : std::to_string(number);
    if (!enumValueAllowed(entry.enum_values, name)) {
      errors.add(at, name + " is not supported by sluice (supported: " + listOf(entry.enum_values) + ")");
    }
  };
  if (field->is_repeated()) {
    for (int i = 0; i < r->FieldSize(msg, field); ++i)
      check(r->GetRepeatedEnumValue(msg, field, i), indexPath(path, i));
  } else {
    check(r->GetEnumValue(msg, field), path);
  }
}

void checkMessage(const pb::Message& msg, const std::string& path, ErrorList& errors);

void checkAny(const pb::Message& any_msg, const std::string& path, ErrorList& errors) {
  const auto& any = static_cast<const pb::Any&>(any_msg);
  const auto type = typeNameOfUrl(any.type_url());
  if (index().extensions.count(type) == 0) {
    errors.add(path, "typed config '" + std::string(type) + "' is not supported by sluice");
    return;
  }
  std::string error;
  auto payload = unpackAny(any, &error);
  if (!payload) {
    errors.add(path, error);
    return;
  }
  checkMessage(*payload, path, errors);
}

void checkMessage(const pb::Message& msg, const std::string& path, ErrorList& errors) {
  const pb::Reflection* r = msg.GetReflection();
  std::vector<const pb::FieldDescriptor*> set_fields;
  r->ListFields(msg, &set_fields);
  const std::string& type = msg.GetDescriptor()->full_name();
  for (const auto* field : set_fields) {
    const std::string field_path = childPath(path, field->name());
    const auto it = index().fields.find({type, field->name()});
    if (it == index().fields.end()) {
      errors.add(field_path, "is not supported by sluice");
      continue;
    }
    if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) {
      checkEnum(msg, field, *it->second, field_path, errors);
      continue;
    }
    if (field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE || field->is_map()) continue;
    const std::string& sub_type = field->message_type()->full_name();
    const bool is_any = sub_type == "google.protobuf.Any";
    // Other well-known types (durations, wrappers, Struct) are leaves.
    if (!is_any && sub_type.rfind("google.protobuf.", 0) == 0) continue;
    if (field->is_repeated()) {
      for (int i = 0; i < r->FieldSize(msg, field); ++i) {
        const auto& element = r->GetRepeatedMessage(msg, field, i);
        is_any ? checkAny(element, indexPath(field_path, i), errors)
               : checkMessage(element, indexPath(field_path, i), errors);
      }
    } else {
      const auto& sub = r->GetMessage(msg, field);
      is_any ? checkAny(sub, field_path, errors) : checkMessage(sub, field_path, errors);
    }
  }
}

}  // namespace

std::span<const SupportedField> supportedFields() { return kFields; }
std::span<const SupportedExtension> supportedExtensions() { return kExtensions; }

void checkSupported(const google::protobuf::Message& message, std::string_view path, ErrorList& errors) {
  checkMessage(message, std::string(path), errors);
}

std::string supportedSubsetMarkdown() {
  std::string out =
      "# Supported configuration\n\n"
      "<!-- Generated by `sluice-config-doc` from src/config/supported_fields.cc. Do not edit by hand;\n"
      "     a test fails when this file and the table differ. -->\n\n"
      "sluice reads Envoy's v3 bootstrap (YAML or JSON). This page lists every field and typed\n"
      "extension it implements. Any other field that is set is rejected by name, e.g.\n"
      "`static_resources.clusters[0].health_checks: is not supported by sluice`, so nothing in a\n"
      "config is ever silently ignored. Fields are also checked against the protoc-gen-validate\n"
      "rules carried in Envoy's protos and against the semantic rules in docs/ARCHITECTURE.md.\n\n"
      "## Typed extensions\n\n"
      "| type | Envoy name | where |\n| --- | --- | --- |\n";
  for (const auto& e : kExtensions) {
    out += "| `" + std::string(e.type) + "` | `" + std::string(e.name) + "` | " + std::string(e.where) + " |\n";
  }
  out += "\n## Fields\n";
  std::string_view current;
  for (const auto& f : kFields) {
    if (f.message != current) {
      current = f.message;
      out += "\n### `" + std::string(f.message) + "`\n\n| field | values | notes |\n| --- | --- | --- |\n";
    }
    out += "| `" + std::string(f.field) + "` | " + (f.enum_values.empty() ? "" : listOf(f.enum_values)) + " | " +
           std::string(f.note) + " |\n";
  }
  return out;
}

}  // namespace sluice::config
