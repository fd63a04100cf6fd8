#include "config/semantic_validator.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "config/any_util.h"
#include "envoy/extensions/access_loggers/grpc/v3/als.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace sluice::config {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::core::v3::Address;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

constexpr std::string_view kHcmType =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
constexpr std::string_view kRouterType = "envoy.extensions.filters.http.router.v3.Router";

// Reports a second use of a name; `first` remembers where each name was seen.
void checkUnique(std::map<std::string, std::string>& first, const std::string& name, const std::string& path,
                 std::string_view what, ErrorList& errors) {
  auto [it, inserted] = first.emplace(name, path);
  if (!inserted) errors.add(path, "duplicate " + std::string(what) + " '" + name + "' (first at " + it->second + ")");
}

bool isHostName(const std::string& text) {
  if (text.empty() || text.size() > 253) return false;
  size_t label = 0;
  for (char c : text) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return true;
}

// Checks a socket address that must be an IP literal (listeners, admin,
// static endpoints); returns "ip:port" for duplicate detection, or "".
std::string checkIpAddress(const Address& address, const std::string& path, ErrorList& errors) {
  if (!address.has_socket_address()) {
    errors.add(path, "needs a socket_address");
    return "";
  }
  const auto& sa = address.socket_address();
  if (!sa.address().empty() && !isIpLiteral(sa.address())) {
    errors.add(childPath(childPath(path, "socket_address"), "address"),
               "'" + sa.address() + "' is not an IP address (only DNS clusters resolve host names)");
    return "";
  }
  return sa.address() + ":" + std::to_string(sa.port_value());
}

class Checker {
 public:
  Checker(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, ErrorList& errors)
      : bootstrap_(bootstrap), errors_(errors) {}

  void run() {
    const auto& sr = bootstrap_.static_resources();
    std::map<std::string, std::string> cluster_names;
    for (int i = 0; i < sr.clusters_size(); ++i) {
      const std::string path = indexPath("static_resources.clusters", i);
      if (!sr.clusters(i).name().empty())
        checkUnique(cluster_names, sr.clusters(i).name(), path + ".name", "cluster name", errors_);
      cluster(sr.clusters(i), path);
    }
    for (const auto& [name, _] : cluster_names) clusters_.insert(name);
    // Routes may name clusters that CDS delivers later; only a config without
    // CDS can be checked completely up front.
    check_route_clusters_ = !bootstrap_.dynamic_resources().has_cds_config();

    std::map<std::string, std::string> listener_names;
    std::map<std::string, std::string> listener_addresses;
    for (int i = 0; i < sr.listeners_size(); ++i) {
      const auto& l = sr.listeners(i);
      const std::string path = indexPath("static_resources.listeners", i);
      if (!l.name().empty()) checkUnique(listener_names, l.name(), path + ".name", "listener name", errors_);
      listener(l, path, listener_addresses);
    }
    if (bootstrap_.has_admin() && bootstrap_.admin().has_address()) {
      checkIpAddress(bootstrap_.admin().address(), "admin.address", errors_);
    }
    // Envoy's LoaderImpl checks: unique layer names, one admin layer at most.
    std::map<std::string, std::string> layer_names;
    std::string admin_layer;
    const auto& layers = bootstrap_.layered_runtime().layers();
    for (int i = 0; i < layers.size(); ++i) {
      const std::string path = indexPath("layered_runtime.layers", i);
      checkUnique(layer_names, layers[i].name(), path + ".name", "runtime layer name", errors_);
      if (layers[i].has_rtds_layer()) {
        const auto& rtds = layers[i].rtds_layer();
        if (rtds.name().empty()) errors_.add(path + ".rtds_layer.name", "names the Runtime resource: required");
        if (!rtds.has_rtds_config()) {
          errors_.add(path + ".rtds_layer.rtds_config", "is required");
        } else {
          // Over ADS, CDS waits for it: initial_fetch_timeout bounds the wait.
          configSource(rtds.rtds_config(), path + ".rtds_layer.rtds_config", overGrpc(rtds.rtds_config()));
        }
      }
      if (!layers[i].has_admin_layer()) continue;
      if (!admin_layer.empty()) {
        errors_.add(path + ".admin_layer",
                    "Too many admin layers specified in LayeredRuntime, at most one may be "
                    "specified (first at " +
                        admin_layer + ")");
      }
      admin_layer = path;
    }
    if (bootstrap_.has_dynamic_resources()) {
      const auto& dr = bootstrap_.dynamic_resources();
      if (dr.has_ads_config()) grpcSource(dr.ads_config(), "dynamic_resources.ads_config");
      if (dr.has_lds_config()) configSource(dr.lds_config(), "dynamic_resources.lds_config");
      // CDS over gRPC: initial_fetch_timeout bounds how long LDS waits for it.
      if (dr.has_cds_config()) configSource(dr.cds_config(), "dynamic_resources.cds_config", overGrpc(dr.cds_config()));
    }
    if (bootstrap_.cluster_manager().has_load_stats_config())
      loadStatsSource(bootstrap_.cluster_manager().load_stats_config());
    // HTTP/2 is what the xDS client's gRPC speaks; the data plane does not yet.
    for (const auto& [name, path] : http2_options_) {
      if (grpc_clusters_.count(name)) continue;
      errors_.add(path,
                  "is accepted only on a cluster a grpc_service names (ads_config, an api_config_source or an "
                  "http_grpc access log: "
                  "sluice's data plane speaks HTTP/1.1 only)");
    }
  }

 private:
  // `waits`: the resource may arrive after start (RDS, EDS: a listener or
  // cluster warms for it), so initial_fetch_timeout has an effect; file-based
  // LDS and CDS are read before serving.
  static bool overGrpc(const envoy::config::core::v3::ConfigSource& source) {
    return source.has_ads() || source.has_api_config_source();
  }

  void configSource(const envoy::config::core::v3::ConfigSource& source, const std::string& path, bool waits = false) {
    if (!source.has_path_config_source() && !overGrpc(source)) {
      errors_.add(path, "needs path_config_source (file-based discovery), ads or api_config_source");
    }
    if (source.has_api_config_source()) grpcSource(source.api_config_source(), path + ".api_config_source");
    if (source.has_ads() && !bootstrap_.dynamic_resources().has_ads_config()) {
      errors_.add(path + ".ads", "needs dynamic_resources.ads_config");
    }
    if (!waits && source.has_initial_fetch_timeout()) {
      errors_.add(
          path + ".initial_fetch_timeout",
          "is not supported by sluice here: file-based LDS and CDS are read before serving, LDS over ADS "
          "serves listeners as they come (only RDS, EDS, and CDS and RTDS over gRPC wait for their first fetch)");
    }
  }

  // A gRPC source (ads_config, or an api_config_source): one gRPC service,
  // to a STATIC cluster of the bootstrap, which may then speak HTTP/2.
  void grpcSource(const envoy::config::core::v3::ApiConfigSource& ads, const std::string& path) {
    if (ads.grpc_services_size() != 1) {
      errors_.add(path + ".grpc_services", "needs exactly one gRPC service");
      return;
    }
    const std::string service_path = path + ".grpc_services[0]";
    if (!ads.grpc_services(0).has_envoy_grpc()) {
      errors_.add(service_path + ".envoy_grpc", "is required");
      return;
    }
    grpcCluster(ads.grpc_services(0).envoy_grpc().cluster_name(), service_path + ".envoy_grpc.cluster_name");
    if (ads.rate_limit_settings().has_max_tokens() && ads.rate_limit_settings().max_tokens().value() == 0) {
      errors_.add(path + ".rate_limit_settings.max_tokens", "must be at least 1: with 0 no request is ever sent");
    }
  }

  // cluster_manager.load_stats_config: the LRS stream, GRPC and V3 only (as
  // in Envoy); the ApiConfigSource fields that tune an xDS stream have no
  // meaning for it and are rejected by name.
  void loadStatsSource(const envoy::config::core::v3::ApiConfigSource& lrs) {
    const std::string path = "cluster_manager.load_stats_config";
    if (lrs.api_type() != envoy::config::core::v3::ApiConfigSource::GRPC) {
      errors_.add(path + ".api_type", "must be GRPC (the load reporting service is one bidirectional gRPC stream)");
    }
    if (lrs.transport_api_version() != envoy::config::core::v3::V3) {
      errors_.add(path + ".transport_api_version", "must be V3");
    }
    if (lrs.set_node_on_first_message_only()) {
      errors_.add(path + ".set_node_on_first_message_only",
                  "is not supported by sluice here: every load report carries the node, as in Envoy");
    }
    if (lrs.has_rate_limit_settings()) {
      errors_.add(path + ".rate_limit_settings",
                  "is not supported by sluice here: the management server sets the reporting interval");
    }
    grpcSource(lrs, path);
  }

  // The cluster a gRPC service (xDS, the access-log service) names: a STATIC
  // cluster of the bootstrap, which may then speak HTTP/2.
  void grpcCluster(const std::string& name, const std::string& path) {
    const auto& clusters = bootstrap_.static_resources().clusters();
    const auto it =
        std::find_if(clusters.begin(), clusters.end(), [&name](const Cluster& c) { return c.name() == name; });
    if (it == clusters.end()) {
      errors_.add(path,
                  "'" + name + "' is not a cluster of static_resources (a gRPC service's cluster must be static)");
    } else if (it->type() != Cluster::STATIC) {
      errors_.add(path, "'" + name + "' must be a STATIC cluster");
    }
    grpc_clusters_.insert(name);
  }

  // envoy.access_loggers.http_grpc: V3, envoy_grpc to a static cluster.
  void grpcAccessLog(const envoy::config::accesslog::v3::AccessLog& log, const std::string& path) {
    envoy::extensions::access_loggers::grpc::v3::HttpGrpcAccessLogConfig als;
    if (!log.typed_config().UnpackTo(&als)) return;  // reported by the earlier layers
    const std::string common = path + ".typed_config.common_config";
    if (als.common_config().transport_api_version() != envoy::config::core::v3::V3) {
      errors_.add(common + ".transport_api_version", "must be V3 (Envoy rejects the others)");
    }
    if (!als.common_config().grpc_service().has_envoy_grpc()) {
      errors_.add(common + ".grpc_service.envoy_grpc", "is required");
      return;
    }
    grpcCluster(als.common_config().grpc_service().envoy_grpc().cluster_name(),
                common + ".grpc_service.envoy_grpc.cluster_name");
  }

  void cluster(const Cluster& c, const std::string& path) {
    int endpoints = 0;
    const auto& la = c.load_assignment();
    for (int l = 0; l < la.endpoints_size(); ++l) {
      const auto& locality = la.endpoints(l);
      const std::string lpath = indexPath(path + ".load_assignment.endpoints", l);
      for (int e = 0; e < locality.lb_endpoints_size(); ++e) {
        ++endpoints;
        const std::string epath = indexPath(lpath + ".lb_endpoints", e) + ".endpoint.address";
        const auto& address = locality.lb_endpoints(e).endpoint().address();
        const bool dns = c.type() == Cluster::STRICT_DNS || c.type() == Cluster::LOGICAL_DNS;
        if (!dns) {
          checkIpAddress(address, epath, errors_);
        } else if (!address.has_socket_address()) {
          errors_.add(epath, "needs a socket_address");
        } else if (!isIpLiteral(address.socket_address().address()) &&
                   !isHostName(address.socket_address().address())) {
          errors_.add(epath + ".socket_address.address",
                      "'" + address.socket_address().address() + "' is neither an IP address nor a host name");
        }
      }
    }
    if (c.type() == Cluster::EDS) {
      if (!c.eds_cluster_config().has_eds_config()) {
        errors_.add(path + ".eds_cluster_config.eds_config",
                    "an EDS cluster needs eds_config (path_config_source, ads or api_config_source)");
      } else {
        configSource(c.eds_cluster_config().eds_config(), path + ".eds_cluster_config.eds_config", true);
      }
    }
    // (Read by reflection: the accessor is deprecated.) Checked at the end, against grpc_clusters_.
    static const auto* http2 = Cluster::descriptor()->FindFieldByName("http2_protocol_options");
    if (c.GetReflection()->HasField(c, http2)) http2_options_.emplace_back(c.name(), path + ".http2_protocol_options");
    if (c.typed_extension_protocol_options_size() > 0) {
      http2_options_.emplace_back(c.name(), path + ".typed_extension_protocol_options");
    }
    healthChecks(c, path);
    if (c.type() == Cluster::STATIC && endpoints == 0) {
      errors_.add(path + ".load_assignment", "a STATIC cluster needs at least one endpoint");
    }
    if (c.type() == Cluster::LOGICAL_DNS && (la.endpoints_size() != 1 || endpoints != 1)) {
      errors_.add(path + ".load_assignment", "a LOGICAL_DNS cluster needs exactly one endpoint");
    }
    if (c.type() == Cluster::STRICT_DNS && endpoints == 0) {
      errors_.add(path + ".load_assignment", "a STRICT_DNS cluster needs at least one endpoint");
    }
  }

  // What the protos' rules leave to code (Envoy checks these when it builds
  // the checker): one check per cluster, status ranges, hex payloads.
  void healthChecks(const Cluster& c, const std::string& path) {
    if (c.health_checks_size() > 1) {
      errors_.add(path + ".health_checks",
                  "sluice runs one health check per cluster; this one has " + std::to_string(c.health_checks_size()));
    }
    for (int i = 0; i < c.health_checks_size(); ++i) {
      const auto& check = c.health_checks(i);
      const std::string hpath = indexPath(path + ".health_checks", i);
      if (check.has_http_health_check()) {
        const auto& http = check.http_health_check();
        const auto ranges = [&](const auto& list, const std::string& field) {
          for (int r = 0; r < list.size(); ++r) {
            const auto& range = list.Get(r);
            if (range.start() < 100 || range.end() > 600 || range.start() >= range.end()) {
              errors_.add(indexPath(hpath + ".http_health_check." + field, r),
                          "must be a range [start, end) of HTTP statuses within [100, 600), start < end; got [" +
                              std::to_string(range.start()) + ", " + std::to_string(range.end()) + ")");
            }
          }
        };
        ranges(http.expected_statuses(), "expected_statuses");
        ranges(http.retriable_statuses(), "retriable_statuses");
      }
      if (check.has_tcp_health_check()) {
        const auto& tcp = check.tcp_health_check();
        const auto hex = [&](const envoy::config::core::v3::HealthCheck::Payload& p, const std::string& ppath) {
          const std::string& text = p.text();
          const bool valid = text.size() % 2 == 0 && std::all_of(text.begin(), text.end(), [](unsigned char ch) {
                               return std::isxdigit(ch) != 0;
                             });
          if (!valid) errors_.add(ppath + ".text", "must be hex text (an even number of 0-9a-fA-F)");
        };
        if (tcp.has_send()) hex(tcp.send(), hpath + ".tcp_health_check.send");
        for (int r = 0; r < tcp.receive_size(); ++r) {
          hex(tcp.receive(r), indexPath(hpath + ".tcp_health_check.receive", r));
        }
      }
    }
  }

  void listener(const Listener& l, const std::string& path, std::map<std::string, std::string>& addresses) {
    if (!l.has_address()) {
      errors_.add(path + ".address", "is required");
    } else {
      const std::string key = checkIpAddress(l.address(), path + ".address", errors_);
      // Port 0 asks the kernel for a free port: two such listeners never clash.
      if (!key.empty() && l.address().socket_address().port_value() != 0)
        checkUnique(addresses, key, path + ".address", "listener address", errors_);
    }
    if (l.filter_chains_size() == 0) errors_.add(path + ".filter_chains", "a listener needs a filter chain");
    for (int c = 0; c < l.filter_chains_size(); ++c) {
      const auto& chain = l.filter_chains(c);
      const std::string cpath = indexPath(path + ".filter_chains", c);
      if (chain.filters_size() == 0) errors_.add(cpath + ".filters", "a filter chain needs a terminal filter");
      for (int f = 0; f < chain.filters_size(); ++f) {
        const std::string fpath = indexPath(cpath + ".filters", f);
        networkFilter(chain.filters(f), fpath, f + 1 == chain.filters_size());
      }
    }
  }

  void networkFilter(const envoy::config::listener::v3::Filter& filter, const std::string& path, bool last) {
    if (!filter.has_typed_config()) {
      errors_.add(path + ".typed_config", "is required (filters are chosen by the type of their typed_config)");
      return;
    }
    // The gate allows only the connection manager here.
    if (typeNameOfUrl(filter.typed_config().type_url()) != kHcmType) return;
    if (!last) errors_.add(path, "the HTTP connection manager is a terminal filter and must be the last one");
    HttpConnectionManager hcm;
    if (!filter.typed_config().UnpackTo(&hcm)) return;  // reported by the earlier layers
    connectionManager(hcm, path + ".typed_config");
  }

  void connectionManager(const HttpConnectionManager& hcm, const std::string& path) {
    const int n = hcm.http_filters_size();
    if (n == 0) errors_.add(path + ".http_filters", "needs envoy.filters.http.router as its last filter");
    for (int i = 0; i < n; ++i) {
      const auto& f = hcm.http_filters(i);
      const std::string fpath = indexPath(path + ".http_filters", i);
      if (!f.has_typed_config()) {
        errors_.add(fpath + ".typed_config", "is required (filters are chosen by the type of their typed_config)");
        continue;
      }
      const bool router = typeNameOfUrl(f.typed_config().type_url()) == kRouterType;
      if (router && i + 1 != n) errors_.add(fpath, "the router must be the last HTTP filter");
      if (!router && i + 1 == n) errors_.add(fpath, "the last HTTP filter must be envoy.filters.http.router");
    }
    for (int i = 0; i < hcm.access_log_size(); ++i) {
      const auto& log = hcm.access_log(i);
      if (log.has_typed_config() &&
          typeNameOfUrl(log.typed_config().type_url()) ==
              envoy::extensions::access_loggers::grpc::v3::HttpGrpcAccessLogConfig::descriptor()->full_name()) {
        grpcAccessLog(log, indexPath(path + ".access_log", i));
      }
    }
    // Upgrade types other than websocket: the gate (config/supported_fields.cc).
    if (hcm.has_route_config()) routeConfig(hcm.route_config(), path + ".route_config");
    if (hcm.has_rds()) {
      configSource(hcm.rds().config_source(), path + ".rds.config_source", true);
    }
    if (!hcm.has_route_config() && !hcm.has_rds()) errors_.add(path, "needs route_config or rds");
  }

  void routeConfig(const RouteConfiguration& rc, const std::string& path) {
    std::map<std::string, std::string> names;
    std::map<std::string, std::string> domains;
    for (int v = 0; v < rc.virtual_hosts_size(); ++v) {
      const auto& vh = rc.virtual_hosts(v);
      const std::string vpath = indexPath(path + ".virtual_hosts", v);
      checkUnique(names, vh.name(), vpath + ".name", "virtual host name", errors_);
      for (int d = 0; d < vh.domains_size(); ++d) {
        const std::string dpath = indexPath(vpath + ".domains", d);
        const std::string& domain = vh.domains(d);
        checkUnique(domains, domain, dpath, "domain", errors_);
        const auto star = domain.find('*');
        if (star != std::string::npos && domain != "*" &&
            (domain.find('*', star + 1) != std::string::npos || (star != 0 && star + 1 != domain.size()))) {
          errors_.add(dpath,
                      "'" + domain + "': a wildcard may only be the whole domain, its first or its last character");
        }
      }
      for (int r = 0; r < vh.routes_size(); ++r) {
        const auto& route = vh.routes(r);
        if (route.has_route()) routeAction(route.route(), indexPath(vpath + ".routes", r) + ".route");
      }
    }
  }

// total_weight is deprecated in v3 but still honoured by Envoy, so by us.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  void routeAction(const envoy::config::route::v3::RouteAction& action, const std::string& path) {
    if (action.has_weighted_clusters()) {
      const auto& wc = action.weighted_clusters();
      uint64_t sum = 0;
      for (int i = 0; i < wc.clusters_size(); ++i) {
        const auto& cw = wc.clusters(i);
        sum += cw.has_weight() ? cw.weight().value() : 0;
        referCluster(cw.name(), indexPath(path + ".weighted_clusters.clusters", i) + ".name");
      }
      if (wc.has_total_weight() && wc.total_weight().value() > 0 && sum != wc.total_weight().value()) {
        errors_.add(path + ".weighted_clusters.total_weight", "the cluster weights add up to " + std::to_string(sum) +
                                                                  ", not " + std::to_string(wc.total_weight().value()));
      } else if (sum == 0 && wc.clusters_size() > 0) {
        errors_.add(path + ".weighted_clusters", "the cluster weights add up to 0; at least one must be positive");
      }
    } else if (!action.cluster().empty()) {
      referCluster(action.cluster(), path + ".cluster");
    }
  }
#pragma GCC diagnostic pop

  void referCluster(const std::string& name, const std::string& path) {
    if (check_route_clusters_ && !name.empty() && clusters_.count(name) == 0) {
      errors_.add(path, "unknown cluster '" + name + "' (not in static_resources.clusters)");
    }
  }

  const envoy::config::bootstrap::v3::Bootstrap& bootstrap_;
  ErrorList& errors_;
  std::set<std::string> clusters_;
  std::set<std::string> grpc_clusters_;                             // named by a grpc_service: may speak HTTP/2
  std::vector<std::pair<std::string, std::string>> http2_options_;  // (cluster, path) of HTTP/2 options
  bool check_route_clusters_ = true;

 public:
  // An RDS route configuration on its own: no cluster references are checked
  // (Envoy's validate_clusters is off for RDS: an unknown cluster is a 503 NC).
  void routeConfigAlone(const RouteConfiguration& rc, const std::string& path) {
    check_route_clusters_ = false;
    routeConfig(rc, path);
  }
};

}  // namespace

bool isIpLiteral(const std::string& text) {
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

void checkSemantics(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, ErrorList& errors) {
  Checker(bootstrap, errors).run();
}

void checkRouteConfiguration(const RouteConfiguration& config, const std::string& path, ErrorList& errors) {
  const envoy::config::bootstrap::v3::Bootstrap none;
  Checker(none, errors).routeConfigAlone(config, path);
}

}  // namespace sluice::config
