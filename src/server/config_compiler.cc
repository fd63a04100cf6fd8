#include "server/config_compiler.h"

#include "proxy/proxy_stats.h"
#include "stats/stats.h"

#include <google/protobuf/util/time_util.h>

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <vector>

#include "config/discovery_file.h"
#include "config/semantic_validator.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "network/listen_socket.h"
#include "server/server_stats.h"
#include "server/tls_compiler.h"

namespace sluice::server {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using google::protobuf::util::TimeUtil;

proxy::Millis millis(const google::protobuf::Duration& d) { return proxy::Millis(TimeUtil::DurationToMilliseconds(d)); }

// The connection manager of a validated filter chain (its last filter), or nullopt.
std::optional<HttpConnectionManager> connectionManagerOf(const envoy::config::listener::v3::FilterChain& chain,
                                                         const std::string& chain_path, config::ErrorList& errors,
                                                         std::string& hcm_path) {
  if (chain.filters_size() == 0) return std::nullopt;
  const auto& filter = chain.filters(chain.filters_size() - 1);
  HttpConnectionManager hcm;
  if (!filter.typed_config().UnpackTo(&hcm)) {
    errors.add(chain_path + ".filters", "no HTTP connection manager");
    return std::nullopt;
  }
  hcm_path = chain_path + ".filters[" + std::to_string(chain.filters_size() - 1) + "].typed_config";
  return hcm;
}

accesslog::AccessLogs compileAccessLogs(const HttpConnectionManager& hcm, const std::string& hcm_path,
                                        accesslog::LogWriter* writer, config::ErrorList& errors) {
  accesslog::AccessLogs logs;
  for (int i = 0; i < hcm.access_log_size(); ++i) {
    auto log =
        accesslog::buildAccessLog(hcm.access_log(i), config::indexPath(hcm_path + ".access_log", i), writer, errors);
    if (log) logs.push_back(std::move(log));
  }
  return logs;
}

}  // namespace

namespace {

// The resources of a file-based discovery source, as Server::start reads
// them. An error is named by the source's path field (`source_path`), with
// the file and the path inside it in the message.
template <typename Resource>
std::vector<Resource> readFileResources(const envoy::config::core::v3::ConfigSource& source,
                                        const std::string& source_path, const std::string& type,
                                        config::ErrorList& errors) {
  const std::string& path = source.path_config_source().path();
  config::DiscoveryFile file;
  config::ErrorList file_errors;
  std::vector<Resource> out;
  if (!config::readDiscoveryFile(path, type, file, file_errors)) {
    for (const auto& e : file_errors.errors()) {
      errors.add(source_path + ".path_config_source.path",
                 "'" + path + "': " + (e.path.empty() ? e.message : e.path + ": " + e.message));
    }
    return out;
  }
  for (const auto& r : file.resources) out.push_back(static_cast<const Resource&>(*r));
  return out;
}

// Serve watches the directory of every file source (config::FileWatcher):
// one that does not exist stops the start, with FileWatcher's words.
void checkWatchable(const std::string& file, const std::string& watched_directory, const std::string& field_path,
                    config::ErrorList& errors) {
  const std::string directory =
      watched_directory.empty() ? std::filesystem::path(file).parent_path().string() : watched_directory;
  struct stat st;
  if (::stat(directory.empty() ? "." : directory.c_str(), &st) != 0) {
    errors.add(field_path, "cannot watch '" + directory + "': " + std::strerror(errno));
  }
}

void checkWatchable(const envoy::config::core::v3::ConfigSource& source, const std::string& source_path,
                    config::ErrorList& errors) {
  const auto& pcs = source.path_config_source();
  checkWatchable(pcs.path(), pcs.watched_directory().path(), source_path + ".path_config_source", errors);
}

}  // namespace

envoy::config::bootstrap::v3::Bootstrap withDynamicResources(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
    const std::vector<envoy::config::listener::v3::Listener>& listeners,
    const std::vector<envoy::config::cluster::v3::Cluster>& clusters) {
  envoy::config::bootstrap::v3::Bootstrap merged = bootstrap;
  for (const auto& l : listeners) *merged.mutable_static_resources()->add_listeners() = l;
  for (const auto& c : clusters) *merged.mutable_static_resources()->add_clusters() = c;
  return merged;
}

void checkConfig(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, config::ErrorList& errors) {
  compileStatsMatcher(bootstrap, errors);
  const auto& layers = bootstrap.layered_runtime().layers();
  for (int i = 0; i < layers.size(); ++i) {
    if (!layers[i].has_disk_layer()) continue;
    checkWatchable(layers[i].disk_layer().symlink_root(), "",
                   config::indexPath("layered_runtime.layers", i) + ".disk_layer.symlink_root", errors);
  }
  const auto& dr = bootstrap.dynamic_resources();
  const size_t before_files = errors.size();
  // ADS sources deliver after start: only file sources are read here.
  std::vector<envoy::config::cluster::v3::Cluster> file_clusters;
  std::vector<envoy::config::listener::v3::Listener> file_listeners;
  if (dr.cds_config().has_path_config_source()) {
    checkWatchable(dr.cds_config(), "dynamic_resources.cds_config", errors);
    file_clusters = readFileResources<envoy::config::cluster::v3::Cluster>(
        dr.cds_config(), "dynamic_resources.cds_config", "envoy.config.cluster.v3.Cluster", errors);
  }
  if (dr.lds_config().has_path_config_source()) {
    checkWatchable(dr.lds_config(), "dynamic_resources.lds_config", errors);
    file_listeners = readFileResources<envoy::config::listener::v3::Listener>(
        dr.lds_config(), "dynamic_resources.lds_config", "envoy.config.listener.v3.Listener", errors);
  }
  const auto merged = withDynamicResources(bootstrap, file_listeners, file_clusters);
  std::set<std::string> eds_files;
  const auto& clusters = merged.static_resources().clusters();
  for (int i = 0; i < clusters.size(); ++i) {
    const auto& c = clusters[i];
    if (c.type() != envoy::config::cluster::v3::Cluster::EDS) continue;
    const auto& source = c.eds_cluster_config().eds_config();
    if (source.path_config_source().path().empty() || !eds_files.insert(source.path_config_source().path()).second) {
      continue;
    }
    const std::string source_path =
        config::indexPath("static_resources.clusters", i) + ".eds_cluster_config.eds_config";
    checkWatchable(source, source_path, errors);
    readFileResources<envoy::config::endpoint::v3::ClusterLoadAssignment>(
        source, source_path, "envoy.config.endpoint.v3.ClusterLoadAssignment", errors);
  }
  if (errors.size() != before_files) return;
  // The bootstrap alone passed the semantic checks; with file resources, the
  // whole again. Errors name a file resource as serve's do.
  config::ErrorList merged_errors;
  if (dr.has_cds_config() || dr.has_lds_config()) config::checkSemantics(merged, merged_errors);
  if (merged_errors.empty()) {
    stats::Store store(1);  // its own: the compile's stats are thrown away with it
    proxy::StatsRegistry registry(store);
    compileStatic(merged, registry, merged_errors, nullptr);
  }
  errors.append(nameDynamicResources(merged_errors, merged, bootstrap.static_resources().listeners_size(),
                                     bootstrap.static_resources().clusters_size()));
}

// The checks run on the bootstrap with the dynamic resources appended; an
// error about one of those names it (`cluster 'web'.type: ...`) instead of
// its place in that merged list, which the user never wrote.
config::ErrorList nameDynamicResources(const config::ErrorList& errors,
                                       const envoy::config::bootstrap::v3::Bootstrap& merged, int static_listeners,
                                       int static_clusters) {
  const auto& sr = merged.static_resources();
  // "<list>[N]..." with N past the bootstrap's own entries -> "<kind> '<name>'...".
  const auto rename = [](std::string& path, std::string_view list, int first_dynamic, std::string_view kind,
                         const auto& resources) {
    if (!path.starts_with(list)) return;
    const size_t close = path.find(']', list.size());
    if (close == std::string::npos) return;
    const int index = std::atoi(path.c_str() + list.size());
    if (index < first_dynamic || index >= resources.size()) return;
    path = std::string(kind) + " '" + resources[index].name() + "'" + path.substr(close + 1);
  };
  config::ErrorList out;
  for (const auto& e : errors.errors()) {
    std::string path = e.path;
    rename(path, "static_resources.listeners[", static_listeners, "listener", sr.listeners());
    rename(path, "static_resources.clusters[", static_clusters, "cluster", sr.clusters());
    out.add(std::move(path), e.message);
  }
  return out;
}

// One filter chain of `listener`: its match, transport and connection manager.
std::optional<proxy::FilterChainConfig> compileFilterChain(const envoy::config::listener::v3::Listener& listener,
                                                           const envoy::config::listener::v3::FilterChain& chain,
                                                           const std::string& chain_path, proxy::StatsRegistry& stats,
                                                           config::ErrorList& errors, accesslog::LogWriter* access_logs,
                                                           const RdsSlots* rds);

std::shared_ptr<const proxy::ListenerConfig> compileListener(const envoy::config::listener::v3::Listener& listener,
                                                             const std::string& path, proxy::StatsRegistry& stats,
                                                             config::ErrorList& errors,
                                                             accesslog::LogWriter* access_logs, const RdsSlots* rds) {
  auto out = std::make_shared<proxy::ListenerConfig>();
  const auto& sa = listener.address().socket_address();
  if (!network::makeEndpoint(sa.address(), static_cast<uint16_t>(sa.port_value()), out->endpoint)) {
    errors.add(path + ".address.socket_address.address", "'" + sa.address() + "' is not an IP address");
    return nullptr;
  }
  // Envoy names an unnamed listener itself; its address is unique and stable.
  out->name = listener.name().empty() ? upstream::formatAddress(sa.address(), static_cast<uint16_t>(sa.port_value()))
                                      : listener.name();
  out->connections = stats.listenerConnections(out->name);
  // Envoy's listener.<address>. scope: the configured address, ':' as '_'.
  out->stats =
      stats.listener(stats::sanitize(upstream::formatAddress(sa.address(), static_cast<uint16_t>(sa.port_value()))));
  if (listener.has_per_connection_buffer_limit_bytes()) {
    out->per_connection_buffer_limit_bytes = listener.per_connection_buffer_limit_bytes().value();
  }
  if (listener.has_listener_filters_timeout())
    out->listener_filters_timeout = millis(listener.listener_filters_timeout());
  out->continue_on_listener_filters_timeout = listener.continue_on_listener_filters_timeout();
  // The gate allows only the tls_inspector as a listener filter.
  out->tls_inspector = listener.listener_filters_size() > 0;
  std::set<std::pair<std::string, std::string>> matches;  // (server name, transport): unique, as in Envoy
  const size_t before_chains = errors.size();
  for (int c = 0; c < listener.filter_chains_size(); ++c) {
    const auto& chain = listener.filter_chains(c);
    const std::string chain_path = config::indexPath(path + ".filter_chains", c);
    auto compiled = compileFilterChain(listener, chain, chain_path, stats, errors, access_logs, rds);
    if (!compiled) continue;
    // Envoy injects the tls_inspector when a match needs what it finds.
    if (!compiled->server_names.empty() || compiled->transport_protocol == "tls") out->tls_inspector = true;
    const auto& names = compiled->server_names.empty() ? std::vector<std::string>{""} : compiled->server_names;
    for (const auto& name : names) {
      if (!matches.insert({name, compiled->transport_protocol}).second) {
        errors.add(chain_path + ".filter_chain_match", "another filter chain has the same match (server name '" + name +
                                                           "', transport protocol '" + compiled->transport_protocol +
                                                           "')");
      }
    }
    out->filter_chains.push_back(std::move(*compiled));
  }
  if (errors.size() != before_chains || out->filter_chains.empty()) return nullptr;
  if (out->tls_inspector) out->tls_inspector_stats = stats.tlsInspector();
  return out;
}

std::optional<proxy::FilterChainConfig> compileFilterChain(const envoy::config::listener::v3::Listener& listener,
                                                           const envoy::config::listener::v3::FilterChain& chain,
                                                           const std::string& chain_path, proxy::StatsRegistry& stats,
                                                           config::ErrorList& errors, accesslog::LogWriter* access_logs,
                                                           const RdsSlots* rds) {
  const auto& sa = listener.address().socket_address();
  proxy::FilterChainConfig out_chain;
  auto* out = &out_chain;
  std::string hcm_path;
  const auto found = connectionManagerOf(chain, chain_path, errors, hcm_path);
  if (!found) return std::nullopt;
  const HttpConnectionManager& hcm = *found;
  for (const auto& name : chain.filter_chain_match().server_names()) {
    std::string lower;
    for (char ch : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out->server_names.push_back(std::move(lower));
  }
  out->transport_protocol = chain.filter_chain_match().transport_protocol();
  if (chain.has_transport_socket()) {
    out->tls = compileDownstreamTls(
        chain.transport_socket(), chain_path + ".transport_socket",
        stats::sanitize(upstream::formatAddress(sa.address(), static_cast<uint16_t>(sa.port_value()))), stats, errors);
    if (!out->tls) return std::nullopt;
  }
  if (chain.has_transport_socket_connect_timeout()) {
    out->transport_socket_connect_timeout = millis(chain.transport_socket_connect_timeout());
  }
  auto& h = out->hcm;
  h.stat_prefix = hcm.stat_prefix();
  h.stats = stats.connectionManager(stats::sanitize(h.stat_prefix));
  if (!hcm.server_name().empty()) h.server_name = hcm.server_name();
  h.use_remote_address = hcm.has_use_remote_address() && hcm.use_remote_address().value();
  h.xff_num_trusted_hops = hcm.xff_num_trusted_hops();
  for (const auto& upgrade : hcm.upgrade_configs()) {
    const bool enabled = !upgrade.has_enabled() || upgrade.enabled().value();
    if (upgrade.upgrade_type() == "websocket" || upgrade.upgrade_type() == "WebSocket") h.websocket_enabled = enabled;
  }
  h.match_options.strip_any_host_port = hcm.strip_any_host_port();
  h.match_options.strip_matching_host_port = hcm.strip_matching_host_port();
  h.match_options.listener_port = sa.port_value();
  h.accept_http_10 = hcm.http_protocol_options().accept_http_10();
  h.default_host_for_http_10 = hcm.http_protocol_options().default_host_for_http_10();
  h.limits.allow_chunked_length = hcm.http_protocol_options().allow_chunked_length();
  if (hcm.has_max_request_headers_kb()) h.limits.max_header_bytes = hcm.max_request_headers_kb().value() * 1024;
  const auto& common = hcm.common_http_protocol_options();
  if (common.has_max_headers_count()) h.limits.max_headers_count = common.max_headers_count().value();
  switch (common.headers_with_underscores_action()) {
    case envoy::config::core::v3::HttpProtocolOptions::REJECT_REQUEST:
      h.limits.headers_with_underscores = http::http1::Limits::Underscores::RejectRequest;
      break;
    case envoy::config::core::v3::HttpProtocolOptions::DROP_HEADER:
      h.limits.headers_with_underscores = http::http1::Limits::Underscores::DropHeader;
      break;
    default:
      break;
  }
  h.response_limits = h.limits;
  h.response_limits.headers_with_underscores = http::http1::Limits::Underscores::Allow;
  if (hcm.has_stream_idle_timeout()) h.stream_idle_timeout = millis(hcm.stream_idle_timeout());
  if (hcm.has_request_headers_timeout()) h.request_headers_timeout = millis(hcm.request_headers_timeout());
  if (hcm.has_request_timeout()) h.request_timeout = millis(hcm.request_timeout());
  if (common.has_idle_timeout()) h.idle_timeout = millis(common.idle_timeout());
  if (common.has_max_connection_duration()) h.max_connection_duration = millis(common.max_connection_duration());
  if (common.has_max_stream_duration()) h.max_stream_duration = millis(common.max_stream_duration());
  if (common.has_max_requests_per_connection()) {
    h.max_requests_per_connection = common.max_requests_per_connection().value();
  }
  h.path_normalization.normalize_path = hcm.has_normalize_path() && hcm.normalize_path().value();
  h.path_normalization.merge_slashes = hcm.merge_slashes();
  switch (hcm.path_with_escaped_slashes_action()) {
    case HttpConnectionManager::REJECT_REQUEST:
      h.path_normalization.escaped_slashes = http::EscapedSlashesAction::RejectRequest;
      break;
    case HttpConnectionManager::UNESCAPE_AND_REDIRECT:
      h.path_normalization.escaped_slashes = http::EscapedSlashesAction::UnescapeAndRedirect;
      break;
    case HttpConnectionManager::UNESCAPE_AND_FORWARD:
      h.path_normalization.escaped_slashes = http::EscapedSlashesAction::UnescapeAndForward;
      break;
    default:  // KEEP_UNCHANGED, and IMPLEMENTATION_SPECIFIC_DEFAULT as in Envoy
      break;
  }
  if (hcm.has_rds()) {
    h.rds = rds != nullptr ? (*rds)(hcm.rds(), hcm.stat_prefix())
                           : std::make_shared<proxy::RdsRouteSlot>(hcm.rds().route_config_name(), size_t{0});
  } else {
    h.routes = router::RouteTable::build(hcm.route_config(), hcm_path + ".route_config", errors);
  }
  const size_t before = errors.size();
  h.access_logs = compileAccessLogs(hcm, hcm_path, access_logs, errors);
  if ((!h.routes && !h.rds) || errors.size() != before) return std::nullopt;
  return out_chain;
}

std::shared_ptr<proxy::ProxyConfig> compileStatic(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                                  proxy::StatsRegistry& stats, config::ErrorList& errors,
                                                  accesslog::LogWriter* access_logs) {
  auto out = std::make_shared<proxy::ProxyConfig>();
  const auto& sr = bootstrap.static_resources();
  for (int i = 0; i < sr.listeners_size(); ++i) {
    if (auto l = compileListener(sr.listeners(i), "static_resources.listeners[" + std::to_string(i) + "]", stats,
                                 errors, access_logs)) {
      out->listeners.push_back(std::move(l));
    }
  }
  return out;
}

}  // namespace sluice::server
