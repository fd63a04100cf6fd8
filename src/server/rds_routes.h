// Route configurations from RDS (file-based, `path_config_source`), main
// thread: one entry per (file, route_config_name), shared by every
// connection manager that names it. A new or changed RouteConfiguration is
// checked and compiled, then its table goes to every worker's slot without
// touching the listeners that use it (a route-table swap: no drain). A
// listener whose table has not arrived yet is warming: the server does not
// serve it until the table arrives or the config source's
// initial_fetch_timeout (Envoy's default 15 s) passes, after which it serves
// an empty table (every request 404 NR), as Envoy does. Over ADS
// (`config_source.ads`) the route configurations come by name on the ADS
// stream: one subscription for the names of every slot, a response applied
// all or nothing (NACKed with the path otherwise); a route configuration a
// response leaves out keeps serving (Envoy's SotW rule for RDS).
//
// Envoy's init order: when CDS comes over gRPC, the route configurations of
// the listeners compiled before CDS answers (the static ones, and those of an
// LDS file) are requested only once it has (or its initial_fetch_timeout has
// passed): hold() at start, release() then. A held slot warms like any other;
// its initial_fetch_timeout starts at release.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/file_watcher.h"
#include "config/subscription.h"
#include "config/xds/subscription_factory.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "network/asio_util.h"
#include "proxy/proxy_config.h"
#include "server/subscription_stats.h"
#include "stats/stats.h"

namespace sluice::server {

class RdsRoutes {
 public:
  // `publish` sends a slot's new table to the workers; `warmed` runs when a
  // slot that had none gets its first (or times out).
  using Publish =
      std::function<void(const std::shared_ptr<proxy::RdsRouteSlot>&, std::shared_ptr<const router::RouteTable>)>;
  // http.<stat_prefix>.rds.<name>.* come from `store`.
  RdsRoutes(asio::io_context& main, config::FileWatcher& watcher, size_t workers, stats::Store& store, Publish publish,
            std::function<void()> warmed);
  // The gRPC streams for `config_source.ads` and `.api_config_source` (they
  // outlive this); set before the first such slot.
  void setSources(const config::xds::SubscriptionSources& sources) {
    ads_ = sources.ads;
    api_ = sources.api;
  }

  // The slot of `rds`, the same for every listener that names it. The first
  // call loads the file (a file not there yet, or without the name, is not an
  // error: the slot waits) and watches it. Never null.
  // Over ADS, a new name joins the subscription's names (requested at once).
  std::shared_ptr<proxy::RdsRouteSlot> slot(
      const envoy::extensions::filters::network::http_connection_manager::v3::Rds& rds, const std::string& stat_prefix);
  // Over-gRPC slots made from now on wait for release() to be requested.
  void hold() { held_ = true; }
  bool held() const { return held_; }
  // Requests the held slots' names (one request per source) and starts their
  // initial_fetch_timeout. Idempotent.
  void release();
  // True once the slot has a table (or its initial fetch timed out).
  bool ready(const proxy::RdsRouteSlot& slot) const;
  // Drops every entry whose slot is not in `used` (the slots of the listeners
  // compiled last): a route configuration goes with its last listener, as in
  // Envoy. Over ADS its name leaves the subscription (requested at once).
  void retain(const std::set<const proxy::RdsRouteSlot*>& used);

  struct Entry {
    std::string source;  // sourceKey of its config_source: "" ADS, "file:<path>", "api:..."; entries of one source
                         // share a subscription
    envoy::config::core::v3::ConfigSource config_source;
    std::shared_ptr<proxy::RdsRouteSlot> slot;
    std::shared_ptr<const router::RouteTable> table;  // null: not arrived yet
    envoy::config::route::v3::RouteConfiguration config;
    std::string version_info;
    std::chrono::system_clock::time_point last_updated;
    bool timed_out = false;
    std::unique_ptr<asio::steady_timer> initial_fetch;
    std::unique_ptr<SubscriptionStats> stats;  // http.<stat_prefix>.rds.<name>.update_* and config_reload
    stats::Counter* config_reload = nullptr;   // a new table went to the workers
  };
  // By "source\nname" (admin /config_dump).
  const std::map<std::string, Entry>& entries() const { return entries_; }

 private:
  // An update of `source`, for every entry it feeds; a rejected
  // route configuration keeps what its entry had (false, with `error`).
  bool onUpdate(const std::string& source, const config::DiscoveryUpdate& update, std::string& error);
  // `entry`'s configuration in `update`, checked and compiled (`table` null:
  // not in it, or unchanged). False with `error`: rejected.
  struct Compiled {
    Entry* entry = nullptr;
    const envoy::config::route::v3::RouteConfiguration* config = nullptr;
    std::shared_ptr<const router::RouteTable> table;
  };
  bool compile(Entry& entry, const config::DiscoveryUpdate& update, std::string& error, Compiled& out);
  void commit(const Compiled& compiled, const std::string& version_info);
  // Applies `update`'s configuration for `entry`, if it has one and it changed.
  bool update(Entry& entry, const config::DiscoveryUpdate& update, std::string& error);
  void accept(Entry& entry, std::shared_ptr<const router::RouteTable> table);
  // Subscribes `entry`'s name: its source's subscription made (with every
  // name of the source) or told of the new name; a file source's last content applied.
  void subscribe(Entry& entry);
  // `key`'s initial_fetch_timeout, if it has no table yet.
  void armInitialFetch(const std::string& key);
  // The route config names of `source`'s slots, sorted.
  std::vector<std::string> namesOf(const std::string& source) const;

  asio::io_context& main_;
  config::FileWatcher& watcher_;
  const size_t workers_;
  stats::Store& store_;
  config::xds::AdsMux* ads_ = nullptr;
  std::function<config::xds::AdsMux*(const envoy::config::core::v3::ApiConfigSource&, const std::string&)> api_;
  Publish publish_;
  std::function<void()> warmed_;
  std::map<std::string, Entry> entries_;
  bool held_ = false;
  std::vector<std::string> held_keys_;  // entries made while held, in order
  struct Source {
    std::unique_ptr<config::SubscriptionCallbacks> callbacks;
    std::unique_ptr<config::Subscription> subscription;
    config::DiscoveryUpdate last;  // the source's last accepted content, for entries added later
  };
  std::map<std::string, Source> sources_;  // by sourceKey
};

}  // namespace sluice::server
