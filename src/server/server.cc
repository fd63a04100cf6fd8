#include "server/server.h"

#include <google/protobuf/util/time_util.h>
#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "admin/admin_json.h"
#include "admin/logging_handler.h"
#include "config/proto_hash.h"
#include "config/semantic_validator.h"
#include "config/xds/subscription_factory.h"
#include "envoy/service/runtime/v3/rtds.pb.h"
#include "log/logger.h"
#include "network/listen_socket.h"
#include "server/config_compiler.h"
#include "server/server_stats.h"
#include "stats/render.h"
#include "stats/stats.h"

namespace sluice::server {

Server::Server(Options options, envoy::config::bootstrap::v3::Bootstrap bootstrap)
    : options_(std::move(options)),
      context_(options_.concurrency),
      bootstrap_(std::move(bootstrap)),
      access_log_writer_(std::make_unique<accesslog::LogWriter>(options_.concurrency)),
      sockets_(options_.concurrency) {}

Server::~Server() {
  if (load_stats_) load_stats_->stop();
  for (auto& stream : xds_streams_) stream->mux->stop();
  for (auto& w : workers_) w->stop();
}

int Server::run() {
  std::string error;
  if (!start(error)) {
    SLUICE_LOG(main, critical, "sluice: {}", error);
    for (auto& w : workers_) w->stop();
    return 1;
  }
  waitForSignal();
  waitForReopenSignal();
  waitForHangupSignal();
  main_.run();
  for (auto& w : workers_) w->stop();
  return 0;
}

// SIGTERM/SIGINT start the drain; later ones are absorbed until the exit.
void Server::waitForSignal() {
  signals_.async_wait([this](const std::error_code& ec, int) {
    if (ec) return;
    shutdown();
    waitForSignal();
  });
}

void Server::waitForReopenSignal() {
  reopen_signal_.async_wait([this](const std::error_code& ec, int) {
    if (ec) return;
    access_log_writer_->reopen();
    log::reopen();  // --log-path, as Envoy reopens it on SIGUSR1
    SLUICE_LOG(main, info, "caught SIGUSR1. Reopening access logs.");
    waitForReopenSignal();
  });
}

void Server::waitForHangupSignal() {
  hangup_signal_.async_wait([this](const std::error_code& ec, int) {
    if (ec) return;
    SLUICE_LOG(main, warn, "caught and eating SIGHUP. See documentation for how to hot restart.");
    waitForHangupSignal();
  });
}

bool Server::start(std::string& error) {
  // Before any stat exists: stats_config.stats_matcher.
  if (!installStatsMatcher(bootstrap_, context_.store(), error)) return false;
  eds_propagation_ = &context_.store().histogram("cluster_manager.eds_propagation_us");
  installGrpcAccessLogs();
  installServerStats(
      context_.store(), options_.concurrency, [this] { return !shutting_down_ && !graceful_drain_; },
      *access_log_writer_, context_.proxyStats().downstreamConnections());
  cluster_manager_ = std::make_unique<ClusterManager>(
      context_.proxyStats(), [this](const std::string& name, DnsAnswer answer) { return dns_.lookup(name, answer); });
  cluster_manager_->enableHealthChecking(main_.get_executor(),
                                         [this](proxy::ClusterDelta delta) { publish(std::move(delta)); });
  cluster_manager_->setRuntime([this] { return runtime_ ? runtime_->snapshot() : nullptr; });
  for (uint32_t i = 0; i < options_.concurrency; ++i) {
    workers_.push_back(std::make_unique<proxy::Worker>(i, context_.proxyStats().downstreamConnections(),
                                                       std::chrono::seconds(options_.drain_time_s)));
    workers_.back()->start();
  }
  watcher_ = std::make_unique<config::FileWatcher>(main_);
  // The runtime reaches the workers before their first config (same queue).
  runtime_ =
      std::make_unique<RuntimeLoader>(bootstrap_.layered_runtime(), bootstrap_.node().cluster(), context_.store());
  runtime_->onPublish([this](const runtime::SnapshotPtr& snapshot) {
    for (auto& w : workers_) w->applyRuntime(snapshot);
  });
  for (auto& w : workers_) w->applyRuntime(runtime_->snapshot());
  rds_ = std::make_unique<RdsRoutes>(
      main_, *watcher_, workers_.size(), context_.store(),
      [this](const std::shared_ptr<proxy::RdsRouteSlot>& slot, std::shared_ptr<const router::RouteTable> table) {
        for (auto& w : workers_) w->applyRoutes(slot, table);
      },
      [this] { asio::post(main_, [this] { onListenersWarmed(); }); });
  if (!runtime_->watch(*watcher_, error)) return false;
  // The admin socket first, as Envoy binds it: it is exclusive, so a second
  // instance on the same admin port stops here, before it opens a listener.
  if (bootstrap_.has_admin() && bootstrap_.admin().has_address()) {
    const auto& sa = bootstrap_.admin().address().socket_address();
    network::Tcp::endpoint endpoint;
    network::makeEndpoint(sa.address(), static_cast<uint16_t>(sa.port_value()), endpoint);
    admin_ = std::make_unique<admin::AdminServer>(main_, context_.store());
    installAdminHandlers();
    if (auto ec = admin_->listen(endpoint)) {
      error = "admin cannot listen on " + sa.address() + ":" + std::to_string(sa.port_value()) + ": " + ec.message();
      if (ec == asio::error::address_in_use) error += " (is another sluice running with this admin address?)";
      return false;
    }
    if (!options_.admin_address_path.empty()) {
      const auto local = admin_->localEndpoint();
      std::ofstream(options_.admin_address_path) << local.address().to_string() << ":" << local.port() << "\n";
    }
  }
  // The subscriptions deliver their first update now; it is applied once, below.
  const auto& dr = bootstrap_.dynamic_resources();
  if (dr.has_ads_config()) ads_ = makeMux(dr.ads_config(), "");
  rds_->setSources(sources());
  starting_ = true;
  if (!subscribeRtds(error)) return false;
  // Envoy's init order: with CDS over gRPC, the route configurations of the
  // listeners compiled before it answers are requested after it has.
  if (dr.has_cds_config() && config::xds::overGrpc(dr.cds_config())) rds_->hold();
  if (dr.has_cds_config() && !cds_deferred_ &&
      !subscribe(dr.cds_config(), "CDS", "envoy.config.cluster.v3.Cluster", &Server::loadCds, error)) {
    return false;
  }
  lds_deferred_ =
      dr.has_lds_config() && config::xds::overGrpc(dr.lds_config()) && config::xds::overGrpc(dr.cds_config());
  if (dr.has_lds_config() && !lds_deferred_ &&
      !subscribe(dr.lds_config(), "LDS", "envoy.config.listener.v3.Listener", &Server::loadLds, error)) {
    return false;
  }
  if (!loadNewEdsFiles(dynamic_, error)) return false;
  starting_ = false;
  if (!apply(dynamic_, error)) return false;
  scheduleDnsRefresh();
  requestEdsOverGrpc(dynamic_);
  if (!cds_deferred_ && waitingForCds()) armCdsInitialFetch();
  if (ads_ != nullptr) ads_->start();
  startLoadReporting();

  for (const auto& [name, bound] : sockets_.bound()) {
    SLUICE_LOG(main, info, "sluice: listener '{}' on {}:{}", name, bound.local.address().to_string(),
               bound.local.port());
  }
  SLUICE_LOG(main, info, "sluice: started with {} workers", workers_.size());
  return true;
}

// A resource new or changed in `now` (by name) takes `version` and the current
// time; an unchanged one keeps its record, as in Envoy's config dump.
template <typename Resource, typename Records>
static void recordVersions(const std::vector<Resource>& before, const std::vector<Resource>& now,
                           const std::string& version, Records& records) {
  std::map<std::string, uint64_t> old;
  for (const auto& r : before) old[r.name()] = config::protoHash(r);
  Records next;
  for (const auto& r : now) {
    const auto it = old.find(r.name());
    const auto kept = records.find(r.name());
    if (it != old.end() && kept != records.end() && it->second == config::protoHash(r)) {
      next[r.name()] = kept->second;
    } else {
      next[r.name()] = {version, std::chrono::system_clock::now()};
    }
  }
  records = std::move(next);
}

// The resources after `update`: its own (state of the world), or those of
// `before` less the removed, with the added and changed (delta), in name order.
template <typename Resource>
static std::vector<Resource> resourcesOf(const std::vector<Resource>& before, const config::DiscoveryUpdate& update) {
  std::vector<Resource> out;
  if (!update.delta) {
    out.reserve(update.resources.size());
    for (const auto& r : update.resources) out.push_back(static_cast<const Resource&>(*r.message));
    return out;
  }
  std::map<std::string, const Resource*> by_name;
  for (const auto& r : before) by_name[r.name()] = &r;
  for (const auto& name : update.removed) by_name.erase(name);
  for (const auto& r : update.resources) by_name[r.name] = static_cast<const Resource*>(r.message.get());
  out.reserve(by_name.size());
  for (const auto& [name, r] : by_name) out.push_back(*r);
  return out;
}

bool Server::loadLds(Dynamic& into, const config::DiscoveryUpdate& update, std::string&) {
  auto before = std::move(into.listeners);
  into.listeners = resourcesOf(before, update);
  into.lds_version = update.version_info;
  recordVersions(before, into.listeners, into.lds_version, into.listener_versions);
  return true;
}

bool Server::loadCds(Dynamic& into, const config::DiscoveryUpdate& update, std::string& error) {
  auto before = std::move(into.clusters);
  into.clusters = resourcesOf(before, update);
  into.cds_version = update.version_info;
  recordVersions(before, into.clusters, into.cds_version, into.cluster_versions);
  return loadNewEdsFiles(into, error);
}

bool Server::loadEds(const config::DiscoveryUpdate& update, bool from_file) {
  // Copied only while some cluster warms (at start, or after a CDS update): an
  // update of one cluster in steady state costs nothing for the others.
  const auto warming = cluster_manager_->warming();
  proxy::ClusterDelta delta;
  for (const auto& r : update.resources) {
    auto changed = cluster_manager_->setAssignment(
        std::static_pointer_cast<const envoy::config::endpoint::v3::ClusterLoadAssignment>(r.message),
        update.version_info, from_file);
    for (auto& u : changed.updated) delta.updated.push_back(std::move(u));
  }
  if (update.received != std::chrono::steady_clock::time_point{} && !delta.empty() && !workers_.empty()) {
    delta.timer = std::make_shared<proxy::PropagationTimer>(update.received, static_cast<uint32_t>(workers_.size()),
                                                            *eds_propagation_);
  }
  publish(std::move(delta));
  // Said once the workers have it queued: a client that reads this log line can use the cluster.
  if (warming.size() == cluster_manager_->warming().size()) return true;
  for (const auto& name : warming) {
    if (cluster_manager_->warming().count(name)) continue;
    cluster_warming_.erase(name);  // its initial_fetch_timeout no longer matters
    SLUICE_LOG(config, info, "sluice: cluster '{}' warmed: its endpoints arrived", name);
  }
  return true;
}

void Server::publish(proxy::ClusterDelta delta) {
  if (delta.empty()) return;
  const auto shared = std::make_shared<const proxy::ClusterDelta>(std::move(delta));
  for (auto& w : workers_) w->applyClusters(shared);
}

bool Server::loadNewEdsFiles(const Dynamic& into, std::string& error) {
  std::vector<const envoy::config::cluster::v3::Cluster*> clusters;
  for (const auto& c : bootstrap_.static_resources().clusters()) clusters.push_back(&c);
  for (const auto& c : into.clusters) clusters.push_back(&c);
  for (const auto* c : clusters) {
    if (c->type() != envoy::config::cluster::v3::Cluster::EDS) continue;
    const auto& source = c->eds_cluster_config().eds_config();
    const std::string& path = source.path_config_source().path();
    if (path.empty() || eds_files_.count(path)) continue;
    eds_files_.insert(path);
    if (addEdsSubscription(source, path, {}, error) == nullptr) return false;
  }
  return true;
}

bool Server::apply(const Dynamic& dynamic, std::string& error) {
  // The dynamic resources join the static ones for the semantic checks and
  // the compile, exactly as if they had been written in the bootstrap.
  const auto merged = withDynamicResources(bootstrap_, dynamic.listeners, dynamic.clusters);
  config::ErrorList errors;
  config::checkSemantics(merged, errors);
  std::shared_ptr<proxy::ProxyConfig> compiled;
  if (errors.empty()) {
    const RdsSlots rds = [this](const auto& r, const std::string& prefix) { return rds_->slot(r, prefix); };
    compiled = listener_manager_.compile(merged, access_log_writer_.get(), errors, &rds);
  }
  if (!errors.empty()) {
    dropUnusedRoutes();  // those the rejected compile named
    error = "cannot compile the configuration:\n" + nameDynamicResources(errors, merged,
                                                                         bootstrap_.static_resources().listeners_size(),
                                                                         bootstrap_.static_resources().clusters_size())
                                                        .toString();
    return false;
  }
  compiled->version = config_ ? config_->version + 1 : 1;
  auto serving = servable(*compiled);
  std::vector<std::vector<proxy::ListenerSocket>> per_worker;
  if (!sockets_.update(*serving, per_worker, error)) {
    countListenerChanges(dynamic, false);
    dropUnusedRoutes();
    return false;
  }
  countListenerChanges(dynamic, true);
  listener_manager_.commit(*compiled, merged);
  all_listeners_ = compiled;
  config_ = serving;
  countActiveListeners();
  dropUnusedRoutes();
  // Envoy's safe order: new and changed clusters first, then the listeners
  // that may route to them, then the removals (a listener that routed to a
  // removed cluster no longer does once they arrive).
  std::vector<const envoy::config::cluster::v3::Cluster*> clusters;
  for (const auto& c : merged.static_resources().clusters()) clusters.push_back(&c);
  auto delta = cluster_manager_->setClusters(clusters);
  armClusterWarming();
  proxy::ClusterDelta removals;
  removals.removed = std::move(delta.removed);
  delta.removed.clear();
  publish(std::move(delta));
  for (size_t i = 0; i < workers_.size(); ++i) workers_[i]->applyConfig(config_, std::move(per_worker[i]));
  publish(std::move(removals));
  return true;
}

void Server::dropUnusedRoutes() {
  std::set<const proxy::RdsRouteSlot*> used;
  if (all_listeners_) {
    for (const auto& l : all_listeners_->listeners) {
      for (const auto& chain : l->filter_chains) used.insert(chain.hcm.rds.get());
    }
  }
  rds_->retain(used);
}

void Server::armClusterWarming() {
  // A cluster that stopped warming (or went) drops its timer: one added again starts afresh.
  const auto& warming = cluster_manager_->warming();
  std::erase_if(cluster_warming_, [&warming](const auto& entry) { return !warming.count(entry.first); });
  for (const auto& name : warming) {
    if (cluster_warming_.count(name)) continue;
    const auto& source = cluster_manager_->clusters().at(name).proto.eds_cluster_config().eds_config();
    const auto timeout = config::initialFetchTimeout(source);
    if (timeout.count() == 0) continue;  // waits for ever
    auto timer = std::make_unique<asio::steady_timer>(main_, timeout);
    timer->async_wait([this, name](const std::error_code& ec) {
      if (ec) return;
      cluster_warming_.erase(name);
      auto delta = cluster_manager_->endWarming(name);
      if (delta.empty()) return;
      publish(std::move(delta));
      SLUICE_LOG(config, warn,
                 "sluice: cluster '{}' got no endpoints within its initial_fetch_timeout; serving it with none until "
                 "they arrive",
                 name);
    });
    cluster_warming_.emplace(name, std::move(timer));
  }
}

std::shared_ptr<proxy::ProxyConfig> Server::servable(const proxy::ProxyConfig& all) {
  auto out = std::make_shared<proxy::ProxyConfig>();
  out->version = all.version;
  warming_.clear();
  for (const auto& l : all.listeners) {
    const bool routes_ready = std::all_of(l->filter_chains.begin(), l->filter_chains.end(), [this](const auto& chain) {
      return !chain.hcm.rds || rds_->ready(*chain.hcm.rds);
    });
    if (routes_ready) {
      out->listeners.push_back(l);
      continue;
    }
    // Warming: a listener new to the workers waits; an updated one keeps
    // serving its previous version meanwhile (Envoy's listener warming).
    warming_.insert(l->name);
    if (config_) {
      for (const auto& old : config_->listeners) {
        if (old->name == l->name) out->listeners.push_back(old);
      }
    }
  }
  context_.store().gauge("listener_manager.total_listeners_warming").set(static_cast<int64_t>(warming_.size()));
  return out;
}

void Server::countActiveListeners() {
  // Envoy's: the listeners serving a version (a warming update's old one
  // counts; a new listener still warming does not).
  context_.store()
      .gauge("listener_manager.total_listeners_active")
      .set(static_cast<int64_t>(config_->listeners.size()));
}

void Server::onListenersWarmed() {
  if (!all_listeners_ || shutting_down_) return;
  const auto was_warming = warming_;
  auto serving = servable(*all_listeners_);
  serving->version = config_->version + 1;
  std::vector<std::vector<proxy::ListenerSocket>> per_worker;
  std::string error;
  if (!sockets_.update(*serving, per_worker, error)) {
    SLUICE_LOG(config, warn, "sluice: a warmed listener cannot be served: {}", error);
    return;
  }
  config_ = serving;
  countActiveListeners();
  for (size_t i = 0; i < workers_.size(); ++i) workers_[i]->applyConfig(config_, std::move(per_worker[i]));
  for (const auto& name : was_warming) {
    if (!warming_.count(name)) SLUICE_LOG(config, info, "sluice: listener '{}' warmed", name);
  }
}

// Re-resolves DNS clusters every dns_refresh_rate (the smallest configured;
// Envoy's default 5 s); a changed answer recompiles the config.
void Server::scheduleDnsRefresh() {
  std::chrono::milliseconds rate{0};
  auto consider = [&](const envoy::config::cluster::v3::Cluster& c) {
    if (c.type() != envoy::config::cluster::v3::Cluster::STRICT_DNS &&
        c.type() != envoy::config::cluster::v3::Cluster::LOGICAL_DNS) {
      return;
    }
    const auto r =
        c.has_dns_refresh_rate()
            ? std::chrono::milliseconds(google::protobuf::util::TimeUtil::DurationToMilliseconds(c.dns_refresh_rate()))
            : std::chrono::milliseconds(5000);
    if (rate.count() == 0 || r < rate) rate = r;
  };
  for (const auto& c : bootstrap_.static_resources().clusters()) consider(c);
  for (const auto& c : dynamic_.clusters) consider(c);
  if (rate.count() == 0) return;
  dns_timer_.expires_after(rate);
  dns_timer_.async_wait([this](const std::error_code& ec) {
    if (ec || shutting_down_) return;
    dns_.refresh([this](bool changed) {
      if (!changed) return;
      auto delta = cluster_manager_->refreshDns();
      // Logged even when no host set changed (an empty answer a LOGICAL_DNS
      // cluster ignores): the answers did change.
      const size_t changed_clusters = delta.updated.size();
      publish(std::move(delta));
      SLUICE_LOG(dns, info, "sluice: DNS update applied: {} cluster(s) with new hosts", changed_clusters);
    });
    scheduleDnsRefresh();
  });
}

void Server::installAdminHandlers() {
  admin_->add("/ready", "print server state, return 200 if LIVE, otherwise return 503", false,
              [this](const admin::AdminRequest&) {
                return draining() ? admin::AdminResponse{503, "text/plain; charset=UTF-8", "DRAINING\n"}
                                  : admin::AdminResponse{200, "text/plain; charset=UTF-8", "LIVE\n"};
              });
  admin_->add("/listeners", "print listener info", false, [this](const admin::AdminRequest& request) {
    admin::AdminResponse r;
    if (request.param("format") == "json") {
      nlohmann::json statuses = nlohmann::json::array();
      for (const auto& [name, bound] : sockets_.bound()) {
        statuses.push_back(
            {{"name", name},
             {"local_address",
              {{"socket_address",
                {{"address", bound.local.address().to_string()}, {"port_value", bound.local.port()}}}}}});
      }
      r.content_type = "application/json";
      r.body = admin::dumpJson(nlohmann::json{{"listener_statuses", statuses}});
    } else {
      for (const auto& [name, bound] : sockets_.bound()) {
        r.body += name + "::" + bound.local.address().to_string() + ":" + std::to_string(bound.local.port()) + "\n";
      }
    }
    return r;
  });
  const auto& stats_config = bootstrap_.stats_config();
  installStatsHandlers(*admin_, context_.store(),
                       !stats_config.has_use_all_default_tags() || stats_config.use_all_default_tags().value());
  installRuntimeHandlers(*admin_, *runtime_);
  admin::installLoggingHandler(*admin_);
  admin_->add("/quitquitquit", "exit the server", true, [this](const admin::AdminRequest&) {
    asio::post(main_, [this] { shutdown(); });
    return admin::AdminResponse{200, "text/plain; charset=UTF-8", "OK\n"};
  });
  installObservabilityHandlers();
}

void Server::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  SLUICE_LOG(main, info, "sluice: shutting down, draining for up to {}s", options_.drain_time_s);
  drain_timer_ = std::make_unique<asio::steady_timer>(main_);
  drain_timer_->expires_after(std::chrono::seconds(options_.drain_time_s));
  drain_timer_->async_wait([this](const std::error_code& ec) {
    if (!ec) finish();
  });
  for (auto& w : workers_) {
    // As Envoy's shutdown closes every connection, sluice's closes WebSocket
    // tunnels at once (they would only hold the exit until --drain-time-s);
    // requests in flight get the drain time to finish (docs/HARDENING.md).
    w->drain(
        [this] {
          asio::post(main_, [this] {
            if (++workers_drained_ == workers_.size()) finish();
          });
        },
        proxy::Worker::Tunnels::kClose);
  }
}

void Server::finish() {
  if (drain_timer_) drain_timer_->cancel();
  if (cds_initial_fetch_) cds_initial_fetch_->cancel();
  if (rtds_initial_fetch_) rtds_initial_fetch_->cancel();
  if (load_stats_) load_stats_->stop();
  for (auto& stream : xds_streams_) stream->mux->stop();
  dns_timer_.cancel();
  if (admin_) admin_->close();
  for (auto& w : workers_) w->stop();
  reopen_signal_.cancel();
  hangup_signal_.cancel();
  main_.stop();
}

}  // namespace sluice::server
