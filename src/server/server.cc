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
#include "server/subscription_stats.h"
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
  installServerStats(
      context_.store(), options_.concurrency, [this] { return !shutting_down_ && !graceful_drain_; },
      *access_log_writer_, context_.proxyStats().downstreamConnections());
  cluster_manager_ = std::make_unique<ClusterManager>(
      context_.proxyStats(), [this](const std::string& name, DnsAnswer answer) { return dns_.lookup(name, answer); });
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
  if (!cds_deferred_ && lds_deferred_) armCdsInitialFetch();
  if (ads_ != nullptr) ads_->start();

  for (const auto& [name, bound] : sockets_.bound()) {
    SLUICE_LOG(main, info, "sluice: listener '{}' on {}:{}", name, bound.local.address().to_string(),
               bound.local.port());
  }
  SLUICE_LOG(main, info, "sluice: started with {} workers", workers_.size());
  return true;
}

namespace {

std::string pathOf(const envoy::config::core::v3::ConfigSource& source) { return source.path_config_source().path(); }

}  // namespace

config::xds::AdsMux* Server::makeMux(const envoy::config::core::v3::ApiConfigSource& api, const std::string& type_url) {
  const std::string& cluster_name = api.grpc_services(0).envoy_grpc().cluster_name();
  const bool delta = api.api_type() == envoy::config::core::v3::ApiConfigSource::DELTA_GRPC;
  config::xds::GrpcTransportOptions options;
  if (!type_url.empty()) {
    options.method = config::xds::serviceMethod(type_url, delta);
  } else if (delta) {
    options.method = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";
  }
  if (api.has_rate_limit_settings()) {
    const auto& settings = api.rate_limit_settings();
    config::xds::GrpcTransportOptions::RateLimit limit;
    if (settings.has_max_tokens()) limit.max_tokens = settings.max_tokens().value();
    constexpr double kOncePerYear = 1.0 / (365.0 * 24 * 3600);
    if (settings.has_fill_rate()) limit.fill_rate = std::max(settings.fill_rate().value(), kOncePerYear);
    options.rate_limit = limit;
  }
  for (const auto& c : bootstrap_.static_resources().clusters()) {
    if (c.name() != cluster_name) continue;  // the semantic checks made it a STATIC cluster
    if (c.has_connect_timeout()) {
      options.connect_timeout =
          std::chrono::milliseconds(google::protobuf::util::TimeUtil::DurationToMilliseconds(c.connect_timeout()));
    }
    for (const auto& locality : c.load_assignment().endpoints()) {
      for (const auto& e : locality.lb_endpoints()) {
        const auto& sa = e.endpoint().address().socket_address();
        const bool v6 = sa.address().find(':') != std::string::npos;
        options.targets.push_back(v6 ? "ipv6:[" + sa.address() + "]:" + std::to_string(sa.port_value())
                                     : "ipv4:" + sa.address() + ":" + std::to_string(sa.port_value()));
      }
    }
  }
  auto node = bootstrap_.node();
  node.set_user_agent_name("sluice");
  node.set_user_agent_version(SLUICE_VERSION);
  auto stream = std::make_unique<XdsStream>();
  if (delta) {
    stream->delta = std::make_unique<config::xds::GrpcDeltaAdsTransport>(main_, std::move(options), context_.store());
    stream->mux = std::make_unique<config::xds::DeltaAdsClient>(*stream->delta, std::move(node),
                                                                api.set_node_on_first_message_only(), context_.store());
  } else {
    stream->sotw = std::make_unique<config::xds::GrpcAdsTransport>(main_, std::move(options), context_.store());
    stream->mux = std::make_unique<config::xds::AdsClient>(*stream->sotw, std::move(node),
                                                           api.set_node_on_first_message_only(), context_.store());
  }
  xds_streams_.push_back(std::move(stream));
  return xds_streams_.back()->mux.get();
}

config::xds::SubscriptionSources Server::sources() {
  return {*watcher_, ads_, [this](const envoy::config::core::v3::ApiConfigSource& api, const std::string& type_url) {
            // A stream of its own (Envoy's per-subscription GrpcMux), connecting at once.
            auto* mux = makeMux(api, type_url);
            mux->start();
            return mux;
          }};
}

void Server::requestEdsOverGrpc(const Dynamic& dynamic) {
  // By source (sourceKey): the ADS stream, or each api_config_source.
  std::map<std::string, std::pair<envoy::config::core::v3::ConfigSource, std::vector<std::string>>> wanted;
  auto consider = [&wanted](const envoy::config::cluster::v3::Cluster& c) {
    const auto& source = c.eds_cluster_config().eds_config();
    if (c.type() != envoy::config::cluster::v3::Cluster::EDS || !config::xds::overGrpc(source)) return;
    auto& entry = wanted[config::xds::sourceKey(source)];
    entry.first = source;
    const auto& service = c.eds_cluster_config().service_name();
    entry.second.push_back(service.empty() ? c.name() : service);
  };
  for (const auto& c : bootstrap_.static_resources().clusters()) consider(c);
  for (const auto& c : dynamic.clusters) consider(c);
  // A source no cluster uses any more asks for nothing (an unsubscription).
  for (auto& [key, subscription] : eds_over_grpc_) {
    if (!wanted.count(key)) subscription->updateResourceInterest({});
  }
  for (auto& [key, entry] : wanted) {
    const auto it = eds_over_grpc_.find(key);
    if (it != eds_over_grpc_.end()) {
      it->second->updateResourceInterest(std::move(entry.second));
      continue;
    }
    std::string unused;  // over gRPC: cannot fail
    eds_over_grpc_[key] = addEdsSubscription(entry.first, key.empty() ? "over ADS" : "over its api_config_source",
                                             std::move(entry.second), unused);
  }
}

config::Subscription* Server::addEdsSubscription(const envoy::config::core::v3::ConfigSource& source,
                                                 const std::string& label, std::vector<std::string> names,
                                                 std::string& error) {
  // An endpoint update goes to the cluster manager alone: no copy of the
  // other resources, no recompile, only the clusters it feeds are sent.
  // Counted per cluster (cluster.<name>.update_*), as Envoy does.
  auto callbacks = std::make_unique<config::FunctionCallbacks>(
      [this, label, from_file = !config::xds::overGrpc(source)](const config::DiscoveryUpdate& update, std::string&) {
        loadEds(update, from_file);
        if (!starting_) {
          SLUICE_LOG(config, info, "sluice: EDS {} update applied (version_info '{}')", label, update.version_info);
        }
        return true;
      },
      [this, label, key = config::xds::sourceKey(source)](const std::string& e) {
        cluster_manager_->countEdsRejected(key);
        SLUICE_LOG(config, warn, "sluice: EDS {} update rejected, keeping the previous endpoints: {}", label, e);
      },
      [this, key = config::xds::sourceKey(source)] { cluster_manager_->countEdsFailure(key); });
  auto subscription = config::xds::makeSubscription(sources(), source, "envoy.config.endpoint.v3.ClusterLoadAssignment",
                                                    std::move(names), *callbacks);
  subscriptions_.push_back({std::move(callbacks), std::move(subscription)});
  if (!subscriptions_.back().subscription->start(error)) return nullptr;
  return subscriptions_.back().subscription.get();
}

void Server::armCdsInitialFetch() {
  const auto timeout = config::initialFetchTimeout(bootstrap_.dynamic_resources().cds_config());
  if (timeout.count() == 0) return;
  cds_initial_fetch_ = std::make_unique<asio::steady_timer>(main_, timeout);
  cds_initial_fetch_->async_wait([this](const std::error_code& ec) {
    if (ec || !lds_deferred_) return;
    context_.store().counter("cluster_manager.cds.init_fetch_timeout").inc();
    SLUICE_LOG(config, warn, "sluice: no CDS response within initial_fetch_timeout; subscribing to LDS");
    startDeferredLds();
  });
}

void Server::startDeferredCds() {
  if (!cds_deferred_) return;
  cds_deferred_ = false;
  if (rtds_initial_fetch_) rtds_initial_fetch_->cancel();
  std::string error;
  subscribe(bootstrap_.dynamic_resources().cds_config(), "CDS", "envoy.config.cluster.v3.Cluster", &Server::loadCds,
            error);  // over ADS: cannot fail
  if (lds_deferred_) armCdsInitialFetch();
}

bool Server::subscribeRtds(std::string& error) {
  // By source (sourceKey), each with its layers' names.
  std::map<std::string, std::pair<const envoy::config::core::v3::ConfigSource*, std::vector<std::string>>> by_source;
  std::chrono::milliseconds grpc_timeout{-1};
  for (const auto& layer : bootstrap_.layered_runtime().layers()) {
    if (!layer.has_rtds_layer()) continue;
    const auto& source = layer.rtds_layer().rtds_config();
    auto& entry = by_source[config::xds::sourceKey(source)];
    entry.first = &source;
    entry.second.push_back(layer.rtds_layer().name());
    if (config::xds::overGrpc(source)) {
      const auto t = config::initialFetchTimeout(source);
      if (grpc_timeout.count() < 0 || t < grpc_timeout) grpc_timeout = t;
    }
  }
  if (by_source.empty()) return true;
  // Envoy's runtime.* subscription stats, for every RTDS source together.
  auto counts = std::make_shared<SubscriptionStats>(context_.store(), "runtime");
  const auto waiting = std::make_shared<std::set<std::string>>();  // RTDS names over gRPC not answered yet
  for (auto& [key, entry] : by_source) {
    const bool over_grpc = config::xds::overGrpc(*entry.first);
    if (over_grpc) waiting->insert(entry.second.begin(), entry.second.end());
    const std::string label = key.empty() ? "over ADS"
                              : over_grpc ? "over its api_config_source"
                                          : pathOf(*entry.first);
    auto callbacks = std::make_unique<config::FunctionCallbacks>(
        [this, counts, waiting, label](const config::DiscoveryUpdate& update, std::string&) {
          counts->attempt.inc();
          for (const auto& r : update.resources) {
            const auto& runtime = static_cast<const envoy::service::runtime::v3::Runtime&>(*r.message);
            if (!runtime_->setRtdsLayer(runtime.name(), runtime.layer(),
                                        r.version.empty() ? update.version_info : r.version)) {
              SLUICE_LOG(config, debug, "sluice: RTDS {}: no layer takes '{}'; ignored", label, runtime.name());
            }
            waiting->erase(runtime.name());
          }
          for (const auto& name : update.removed) runtime_->clearRtdsLayer(name);  // delta: the layer is empty again
          counts->applied(update.version_info);
          if (!starting_) {
            SLUICE_LOG(config, info, "sluice: RTDS {} update applied (version_info '{}')", label, update.version_info);
          }
          if (!update.rejected.empty()) counts->rejected.inc();
          if (waiting->empty()) startDeferredCds();
          return true;
        },
        [counts, label](const std::string& e) {
          counts->attempt.inc();
          counts->rejected.inc();
          SLUICE_LOG(config, warn, "sluice: RTDS {} update rejected, keeping the previous runtime: {}", label, e);
        },
        [counts] {
          counts->attempt.inc();
          counts->failure.inc();
        });
    auto subscription = config::xds::makeSubscription(sources(), *entry.first, "envoy.service.runtime.v3.Runtime",
                                                      entry.second, *callbacks);
    subscriptions_.push_back({std::move(callbacks), std::move(subscription)});
    if (!subscriptions_.back().subscription->start(error)) return false;
  }
  const auto& cds = bootstrap_.dynamic_resources().cds_config();
  cds_deferred_ = !waiting->empty() && config::xds::overGrpc(cds);
  if (cds_deferred_ && grpc_timeout.count() > 0) {
    rtds_initial_fetch_ = std::make_unique<asio::steady_timer>(main_, grpc_timeout);
    rtds_initial_fetch_->async_wait([this](const std::error_code& ec) {
      if (ec || !cds_deferred_) return;
      context_.store().counter("runtime.init_fetch_timeout").inc();
      SLUICE_LOG(config, warn, "sluice: no RTDS response within initial_fetch_timeout; subscribing to CDS");
      startDeferredCds();
    });
  }
  return true;
}

void Server::startDeferredLds() {
  if (!lds_deferred_) return;
  lds_deferred_ = false;
  if (cds_initial_fetch_) cds_initial_fetch_->cancel();
  std::string error;
  subscribe(bootstrap_.dynamic_resources().lds_config(), "LDS", "envoy.config.listener.v3.Listener", &Server::loadLds,
            error);  // over ADS: cannot fail
}

bool Server::subscribe(const envoy::config::core::v3::ConfigSource& source, const std::string& what,
                       const std::string& type,
                       bool (Server::*load)(Dynamic&, const config::DiscoveryUpdate&, std::string&),
                       std::string& error) {
  auto counts = std::make_shared<SubscriptionStats>(context_.store(),
                                                    what == "CDS" ? "cluster_manager.cds" : "listener_manager.lds");
  const bool cds = what == "CDS";
  auto callbacks = std::make_unique<config::FunctionCallbacks>(
      [this, what, load, counts, cds](const config::DiscoveryUpdate& update, std::string& e) {
        counts->attempt.inc();
        counts->attempt_counted = true;  // if it fails, onConfigUpdateFailed follows
        if (starting_) {
          if (!(this->*load)(dynamic_, update, e)) return false;
          counts->attempt_counted = false;
          counts->applied(update.version_info);
          return true;
        }
        Dynamic next = dynamic_;
        if (!(this->*load)(next, update, e) || !apply(next, e)) return false;
        counts->attempt_counted = false;
        dynamic_ = std::move(next);
        counts->applied(update.version_info);
        SLUICE_LOG(config, info, "sluice: {} update applied (version_info '{}', config version {})", what,
                   update.version_info, config_->version);
        if (!cds) clearRejectedListeners(update);
        if (!update.rejected.empty()) {
          // Delta: the valid resources applied, the others left out (a NACK names them).
          counts->rejected.inc();
          SLUICE_LOG(config, warn, "sluice: {} update applied without its rejected resources: {}", what,
                     update.rejected);
        }
        if (cds) {
          requestEdsOverGrpc(dynamic_);  // every CDS update re-requests EDS, changed or not (SotW)
          startDeferredLds();
        }
        return true;
      },
      [this, what, counts, cds](const std::string& e) {
        // An update the subscription could not read gets here without onConfigUpdate: count its attempt.
        if (!counts->attempt_counted) counts->attempt.inc();
        counts->attempt_counted = false;
        counts->rejected.inc();
        SLUICE_LOG(config, warn, "sluice: {} update rejected, keeping the previous configuration: {}", what, e);
        if (cds) startDeferredLds();
      },
      [counts] {
        counts->attempt.inc();
        counts->failure.inc();
      },
      cds ? config::FunctionCallbacks::Rejected{}
          : [this](const std::vector<google::protobuf::Any>& resources,
                   const std::string& e) { recordRejectedListeners(resources, e); });
  auto subscription = config::xds::makeSubscription(sources(), source, type, {}, *callbacks);
  subscriptions_.push_back({std::move(callbacks), std::move(subscription)});
  return subscriptions_.back().subscription->start(error);
}

void Server::recordRejectedListeners(const std::vector<google::protobuf::Any>& resources, const std::string& error) {
  const auto now = std::chrono::system_clock::now();
  std::vector<std::pair<envoy::config::listener::v3::Listener, const google::protobuf::Any*>> received;
  for (const auto& any : resources) {
    envoy::config::listener::v3::Listener l;
    if (any.UnpackTo(&l) && !l.name().empty()) received.emplace_back(std::move(l), &any);
  }
  std::vector<size_t> blamed;
  for (size_t i = 0; i < received.size(); ++i) {
    if (error.find(config::resourceLabel(received[i].first)) != std::string::npos) blamed.push_back(i);
  }
  if (blamed.empty()) {
    for (size_t i = 0; i < received.size(); ++i) {
      const auto& l = received[i].first;
      const auto current = std::find_if(dynamic_.listeners.begin(), dynamic_.listeners.end(),
                                        [&l](const auto& c) { return c.name() == l.name(); });
      if (current == dynamic_.listeners.end() || config::protoHash(*current) != config::protoHash(l)) {
        blamed.push_back(i);
      }
    }
  }
  for (const size_t i : blamed) rejected_listeners_[received[i].first.name()] = {*received[i].second, error, now};
}

void Server::clearRejectedListeners(const config::DiscoveryUpdate& update) {
  if (!update.delta) {
    // State of the world: every listener was offered again and accepted. A
    // resource a delta response left out keeps its error (update.rejected).
    rejected_listeners_.clear();
    return;
  }
  for (const auto& r : update.resources) rejected_listeners_.erase(r.name);
  for (const auto& name : update.removed) rejected_listeners_.erase(name);
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
    const std::string path = pathOf(source);
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
    for (const auto& l : all_listeners_->listeners) used.insert(l->hcm.rds.get());
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
    if (!l->hcm.rds || rds_->ready(*l->hcm.rds)) {
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
  for (auto& stream : xds_streams_) stream->mux->stop();
  dns_timer_.cancel();
  if (admin_) admin_->close();
  for (auto& w : workers_) w->stop();
  reopen_signal_.cancel();
  hangup_signal_.cancel();
  main_.stop();
}

}  // namespace sluice::server
