// Server: the running data plane. Owns the main thread's io_context (signals,
// admin), the workers, and the listening sockets; compiles the bootstrap into
// a ProxyConfig and hands it to the workers. Main thread only.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "accesslog/log_writer.h"
#include "admin/admin_server.h"
#include "config/file_watcher.h"
#include "config/subscription.h"
#include "config/xds/ads_client.h"
#include "config/xds/delta_ads_client.h"
#include "config/xds/grpc_transport.h"
#include "config/xds/subscription_factory.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "proxy/worker.h"
#include "server/cluster_manager.h"
#include "server/config_compiler.h"
#include "server/dns_cache.h"
#include "server/listener_manager.h"
#include "server/listener_sockets.h"
#include "server/load_stats_reporter.h"
#include "server/options.h"
#include "server/rds_routes.h"
#include "server/runtime_loader.h"
#include "server/server_context.h"

namespace sluice::server {

class Server {
 public:
  Server(Options options, envoy::config::bootstrap::v3::Bootstrap bootstrap);
  ~Server();

  // Starts everything and blocks until shutdown. Returns the exit code.
  int run();

 private:
  bool start(std::string& error);

  // When a dynamic resource was last changed, for /config_dump.
  struct ResourceVersion {
    std::string version_info;  // the DiscoveryResponse's that brought the change
    std::chrono::system_clock::time_point last_updated;
  };
  // File-based xDS (path_config_source): the resources last accepted.
  struct Dynamic {
    std::vector<envoy::config::listener::v3::Listener> listeners;                // LDS
    std::vector<envoy::config::cluster::v3::Cluster> clusters;                   // CDS
    std::string lds_version, cds_version;                                        // of the last accepted file
    std::map<std::string, ResourceVersion> listener_versions, cluster_versions;  // by name
  };
  // Envoy's error_state in /config_dump: a listener whose last update was
  // rejected, with the rejected config, until an update of it is accepted.
  struct RejectedListener {
    google::protobuf::Any config;
    std::string details;
    std::chrono::system_clock::time_point when;
  };
  // The listeners of a rejected LDS response that `error` names (if it names
  // none: those the response would have added or changed).
  void recordRejectedListeners(const std::vector<google::protobuf::Any>& resources, const std::string& error);
  // An LDS update of `update`'s listeners was accepted: their error_state goes.
  void clearRejectedListeners(const config::DiscoveryUpdate& update);
  // An LDS or CDS update into `into` (CDS also subscribes to new EDS files).
  bool loadLds(Dynamic& into, const config::DiscoveryUpdate& update, std::string& error);
  bool loadCds(Dynamic& into, const config::DiscoveryUpdate& update, std::string& error);
  // Hands an EDS update's assignments to the cluster manager; the clusters
  // whose hosts changed go to the workers.
  bool loadEds(const config::DiscoveryUpdate& update, bool from_file);
  // Subscribes to the EDS files of every EDS cluster (of the bootstrap and
  // `clusters`) not subscribed to yet; each delivers its first update now.
  bool loadNewEdsFiles(const Dynamic& clusters, std::string& error);
  // Subscribes to EDS from `source` (`label` names it in logs): the updates
  // go to loadEds. Null (with `error`) if a file could not be read.
  config::Subscription* addEdsSubscription(const envoy::config::core::v3::ConfigSource& source,
                                           const std::string& label, std::vector<std::string> names,
                                           std::string& error);
  // The listeners of `all` that can be served: those with their routes; a
  // warming one is left out, or kept at its previous version. Sets warming_.
  std::shared_ptr<proxy::ProxyConfig> servable(const proxy::ProxyConfig& all);
  // An RDS slot got its first table (or timed out): serve what is warm now.
  void onListenersWarmed();
  // Starts the initial_fetch_timeout of each cluster that began warming.
  void armClusterWarming();
  // RDS entries no compiled listener names go (rds_routes.h).
  void dropUnusedRoutes();
  // Sends a cluster delta to every worker.
  void publish(proxy::ClusterDelta delta);
  // Compiles bootstrap + `dynamic` and hands the result to the workers.
  // On failure nothing changes and `error` says why.
  bool apply(const Dynamic& dynamic, std::string& error);
  // An LDS or CDS subscription: each update is loaded into a copy of the
  // dynamic resources and applied; a rejected one keeps the previous config.
  // While starting_, updates load into dynamic_ and start() applies them once.
  bool subscribe(const envoy::config::core::v3::ConfigSource& source, const std::string& what, const std::string& type,
                 bool (Server::*load)(Dynamic&, const config::DiscoveryUpdate&, std::string&), std::string& error);
  // dynamic_resources.ads_config: the client and its transport, to the
  // endpoints of the static cluster it names. Not started yet.
  // A gRPC xDS stream to `api`'s cluster (not started): ADS (`type_url`
  // empty) or the per-type service of `type_url`, by its api_type.
  // The gRPC targets of static cluster `cluster_name`'s endpoints, in order.
  std::vector<std::string> grpcTargets(const std::string& cluster_name) const;
  // The node sent to gRPC services (xDS, the access-log service).
  envoy::config::core::v3::Node grpcNode() const;
  // Lets the access logs make envoy.access_loggers.http_grpc clients.
  void installGrpcAccessLogs();
  config::xds::AdsMux* makeMux(const envoy::config::core::v3::ApiConfigSource& api, const std::string& type_url);
  // Where subscriptions come from: files, the ADS stream, api_config_source streams.
  config::xds::SubscriptionSources sources();
  // The EDS names of every EDS cluster fed over gRPC (static and `dynamic`),
  // per source, requested now: after each CDS update, even unchanged (SotW).
  void requestEdsOverGrpc(const Dynamic& dynamic);
  // LDS over ADS, and the RDS of the listeners compiled before CDS answered
  // (static ones, an LDS file's), wait for the first CDS response (or
  // cds_config's initial_fetch_timeout), Envoy's init order: clusters before
  // listeners and routes. Runs the held RDS requests, then subscribes LDS.
  void startDeferredLds();
  // listener_manager.total_listeners_active, from the listeners served now.
  void countActiveListeners();
  bool waitingForCds() const { return lds_deferred_ || rds_->held(); }
  // RTDS layers (layered_runtime.layers[].rtds_layer): one subscription per
  // source (the ADS stream, or a file) for the names of its layers.
  bool subscribeRtds(std::string& error);
  // CDS over ADS waits for RTDS over ADS (Envoy's init order): subscribed
  // once every RTDS name was answered or rtds initial_fetch_timeout passed.
  void startDeferredCds();
  // Arms cds_config.initial_fetch_timeout, after which RDS and LDS go ahead anyway.
  void armCdsInitialFetch();
  void installAdminHandlers();
  // admin_handlers.cc: /server_info, /clusters, /config_dump, /healthcheck/*,
  // /drain_listeners, /certs, and the listener_manager.* stats.
  void installObservabilityHandlers();
  admin::AdminResponse drainListeners(const admin::AdminRequest& request);
  void countListenerChanges(const Dynamic& next, bool created);
  bool draining() const;  // what /ready and /server_info report as DRAINING
  // Stop accepting, let in-flight requests finish for up to --drain-time-s, exit.
  void shutdown();
  void waitForSignal();
  // SIGUSR1: reopen the access-log files (logrotate), as Envoy does.
  void waitForReopenSignal();
  // SIGHUP: logged and ignored, as Envoy does (no reload, no exit).
  void waitForHangupSignal();
  void finish();

  Options options_;
  // First: everything below takes its stats from it.
  ServerContext context_;
  envoy::config::bootstrap::v3::Bootstrap bootstrap_;
  asio::io_context main_{1};
  asio::signal_set signals_{main_, SIGTERM, SIGINT};
  asio::signal_set reopen_signal_{main_, SIGUSR1};
  asio::signal_set hangup_signal_{main_, SIGHUP};
  // Before workers_: it outlives them (their configs point at its sinks).
  std::unique_ptr<accesslog::LogWriter> access_log_writer_;
  std::vector<std::unique_ptr<proxy::Worker>> workers_;
  ListenerSockets sockets_;
  proxy::ProxyConfigPtr config_;
  std::unique_ptr<ClusterManager> cluster_manager_;
  ListenerManager listener_manager_{context_.proxyStats()};
  // From a gRPC EDS response read to every worker serving it (sluice's own stat).
  stats::Histogram* eds_propagation_ = nullptr;
  std::unique_ptr<RdsRoutes> rds_;
  proxy::ProxyConfigPtr all_listeners_;  // the listeners configured, warming ones too (config_: those served)
  std::set<std::string> warming_;        // listener names waiting for their routes
  std::map<std::string, RejectedListener> rejected_listeners_;                  // by name
  std::map<std::string, std::unique_ptr<asio::steady_timer>> cluster_warming_;  // by cluster name
  Dynamic dynamic_;
  std::unique_ptr<config::FileWatcher> watcher_;
  std::unique_ptr<RuntimeLoader> runtime_;  // publishes its snapshots to the workers
  std::set<std::string> eds_files_;         // EDS files subscribed to so far
  struct Source {
    std::unique_ptr<config::SubscriptionCallbacks> callbacks;
    std::unique_ptr<config::Subscription> subscription;
  };
  std::vector<Source> subscriptions_;  // LDS, CDS, EDS (RDS: rds_routes.h)
  bool starting_ = false;              // start() is loading the first updates
  // ADS (dynamic_resources.ads_config). The transport's threads stop before
  // anything they post to is destroyed (~Server, finish()).
  // A gRPC xDS stream: the ADS one, or an api_config_source subscription's.
  struct XdsStream {
    // One of the two transports, by api_type; before the client, which stops it.
    std::unique_ptr<config::xds::GrpcAdsTransport> sotw;
    std::unique_ptr<config::xds::GrpcDeltaAdsTransport> delta;
    std::unique_ptr<config::xds::AdsMux> mux;
  };
  std::vector<std::unique_ptr<XdsStream>> xds_streams_;
  config::xds::AdsMux* ads_ = nullptr;  // in xds_streams_, with dynamic_resources.ads_config
  // EDS over gRPC, by sourceKey (in subscriptions_), once an EDS cluster needs one.
  std::map<std::string, config::Subscription*> eds_over_grpc_;
  bool lds_deferred_ = false;  // LDS over ADS waits for CDS
  bool cds_deferred_ = false;  // CDS over ADS waits for RTDS over ADS
  std::unique_ptr<asio::steady_timer> rtds_initial_fetch_;
  std::unique_ptr<asio::steady_timer> cds_initial_fetch_;
  DnsCache dns_{main_};
  asio::steady_timer dns_timer_{main_};
  void scheduleDnsRefresh();
  std::unique_ptr<admin::AdminServer> admin_;
  // cluster_manager.load_stats_config's LRS client; stopped before what it reads.
  std::unique_ptr<LoadStatsReporter> load_stats_;
  void startLoadReporting();
  std::unique_ptr<asio::steady_timer> drain_timer_;
  bool shutting_down_ = false;
  size_t workers_drained_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  const std::chrono::system_clock::time_point started_wall_ = std::chrono::system_clock::now();
  bool health_check_failed_ = false;  // POST /healthcheck/fail
  bool graceful_drain_ = false;       // POST /drain_listeners?graceful, until the listeners stop
  bool listeners_stopped_ = false;    // POST /drain_listeners
  std::unique_ptr<asio::steady_timer> listener_drain_timer_;
};

}  // namespace sluice::server
