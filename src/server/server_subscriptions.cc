// The server's subscriptions (a part of Server, apart from its start, apply
// and admin): the xDS streams (makeMux), CDS and LDS (subscribe), EDS
// (addEdsSubscription, requestEdsOverGrpc), RTDS (subscribeRtds), Envoy's
// init order across them (CDS waits for RTDS, LDS for CDS), and the
// error_state of rejected listeners. Main thread only.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <set>

#include "accesslog/grpc_access_log.h"
#include "config/proto_hash.h"
#include "config/xds/subscription_factory.h"
#include "envoy/service/runtime/v3/rtds.pb.h"
#include "log/logger.h"
#include "server/server.h"
#include "server/subscription_stats.h"

namespace sluice::server {

std::vector<std::string> Server::grpcTargets(const std::string& cluster_name) const {
  std::vector<std::string> targets;
  for (const auto& c : bootstrap_.static_resources().clusters()) {
    if (c.name() != cluster_name) continue;  // the semantic checks made it a STATIC cluster
    for (const auto& locality : c.load_assignment().endpoints()) {
      for (const auto& e : locality.lb_endpoints()) {
        const auto& sa = e.endpoint().address().socket_address();
        const bool v6 = sa.address().find(':') != std::string::npos;
        targets.push_back(v6 ? "ipv6:[" + sa.address() + "]:" + std::to_string(sa.port_value())
                             : "ipv4:" + sa.address() + ":" + std::to_string(sa.port_value()));
      }
    }
  }
  return targets;
}

envoy::config::core::v3::Node Server::grpcNode() const {
  auto node = bootstrap_.node();
  node.set_user_agent_name("sluice");
  node.set_user_agent_version(SLUICE_VERSION);
  // The bound admin address, for a control plane that shows or proxies this
  // node's admin (sluice-control's UI), unless the bootstrap names one itself
  // (behind NAT, or an admin bound to a wildcard address).
  constexpr const char* kAdminAddressKey = "sluice.admin_address";
  if (admin_ != nullptr && !node.metadata().fields().contains(kAdminAddressKey)) {
    const auto local = admin_->localEndpoint();
    const std::string host =
        local.address().is_v6() ? "[" + local.address().to_string() + "]" : local.address().to_string();
    (*node.mutable_metadata()->mutable_fields())[kAdminAddressKey].set_string_value(host + ":" +
                                                                                    std::to_string(local.port()));
  }
  return node;
}

void Server::installGrpcAccessLogs() {
  access_log_writer_->setGrpcFactory(
      [this](const envoy::extensions::access_loggers::grpc::v3::CommonGrpcAccessLogConfig& common) {
        accesslog::GrpcLogOptions options;
        options.targets = grpcTargets(common.grpc_service().envoy_grpc().cluster_name());
        if (options.targets.empty()) options.targets.push_back("unix:/nonexistent");  // dropped and counted
        options.log_name = common.log_name();
        options.node = grpcNode();
        if (common.has_buffer_flush_interval()) {
          options.flush_interval = std::chrono::milliseconds(
              google::protobuf::util::TimeUtil::DurationToMilliseconds(common.buffer_flush_interval()));
        }
        if (common.has_buffer_size_bytes()) options.buffer_size_bytes = common.buffer_size_bytes().value();
        return std::make_unique<accesslog::GrpcLogClient>(std::move(options), context_.store());
      });
}

void Server::startLoadReporting() {
  if (!bootstrap_.cluster_manager().has_load_stats_config()) return;
  const auto& api = bootstrap_.cluster_manager().load_stats_config();
  const std::string& cluster_name = api.grpc_services(0).envoy_grpc().cluster_name();  // the semantic checks
  config::xds::GrpcTransportOptions options;
  options.method = "/envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats";
  options.stat_prefix = "cluster_manager.load_reporter.";
  options.targets = grpcTargets(cluster_name);
  for (const auto& c : bootstrap_.static_resources().clusters()) {
    if (c.name() == cluster_name && c.has_connect_timeout()) {
      options.connect_timeout =
          std::chrono::milliseconds(google::protobuf::util::TimeUtil::DurationToMilliseconds(c.connect_timeout()));
    }
  }
  auto transport = std::make_unique<config::xds::GrpcLoadStatsTransport>(main_, std::move(options), context_.store());
  load_stats_ = std::make_unique<LoadStatsReporter>(
      main_, std::move(transport), grpcNode(),
      [this] {
        std::vector<LoadReportCluster> clusters;
        if (!cluster_manager_) return clusters;
        clusters.reserve(cluster_manager_->clusters().size());
        for (const auto& [name, entry] : cluster_manager_->clusters()) {
          LoadReportCluster c;
          c.name = name;
          if (entry.proto.type() == envoy::config::cluster::v3::Cluster::EDS) {
            c.service_name = entry.proto.eds_cluster_config().service_name();
          }
          if (entry.hosts) c.hosts = entry.hosts->hosts();
          if (entry.config && entry.config->stats)
            c.dropped_total = entry.config->stats->upstream_rq_pending_overflow.value();
          clusters.push_back(std::move(c));
        }
        return clusters;
      },
      context_.store());
  load_stats_->start();
}

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
  }
  options.targets = grpcTargets(cluster_name);
  auto node = grpcNode();
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
    if (ec || !waitingForCds()) return;
    context_.store().counter("cluster_manager.cds.init_fetch_timeout").inc();
    SLUICE_LOG(config, warn, "sluice: no CDS response within initial_fetch_timeout; subscribing to {}",
               lds_deferred_ ? "RDS and LDS" : "RDS");
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
  if (waitingForCds()) armCdsInitialFetch();
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
                                          : entry.first->path_config_source().path();
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
        [this, counts, waiting, label, names = entry.second](const std::string& e) {
          counts->attempt.inc();
          counts->rejected.inc();
          SLUICE_LOG(config, warn, "sluice: RTDS {} update rejected, keeping the previous runtime: {}", label, e);
          // As Envoy's RTDS init target: a rejected update ends the wait too
          // (a bad first response must not hold CDS, and so LDS, for ever).
          const bool was_waiting = !waiting->empty();
          for (const auto& name : names) waiting->erase(name);
          if (was_waiting && waiting->empty()) startDeferredCds();
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
  if (!waitingForCds()) return;
  if (cds_initial_fetch_) cds_initial_fetch_->cancel();
  rds_->release();  // the route configurations of the listeners there already, then LDS
  if (!lds_deferred_) return;
  lds_deferred_ = false;
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

}  // namespace sluice::server
