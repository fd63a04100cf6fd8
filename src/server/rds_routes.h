// Route configurations from RDS (file-based, `path_config_source`), main
// thread: one entry per (file, route_config_name), shared by every
// connection manager that names it. A new or changed RouteConfiguration is
// checked and compiled, then its table goes to every worker's slot without
// touching the listeners that use it (a route-table swap: no drain). A
// listener whose table has not arrived yet is warming: the server does not
// serve it until the table arrives or the config source's
// initial_fetch_timeout (Envoy's default 15 s) passes, after which it serves
// an empty table (every request 404 NR), as Envoy does.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "config/file_subscription.h"
#include "config/file_watcher.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "network/asio_util.h"
#include "proxy/proxy_config.h"

namespace sluice::server {

class RdsRoutes {
 public:
  // `publish` sends a slot's new table to the workers; `warmed` runs when a
  // slot that had none gets its first (or times out).
  using Publish =
      std::function<void(const std::shared_ptr<proxy::RdsRouteSlot>&, std::shared_ptr<const router::RouteTable>)>;
  RdsRoutes(asio::io_context& main, config::FileWatcher& watcher, size_t workers, Publish publish,
            std::function<void()> warmed);

  // The slot of `rds`, the same for every listener that names it. The first
  // call loads the file (a file not there yet, or without the name, is not an
  // error: the slot waits) and watches it. Never null.
  std::shared_ptr<proxy::RdsRouteSlot> slot(
      const envoy::extensions::filters::network::http_connection_manager::v3::Rds& rds);
  // True once the slot has a table (or its initial fetch timed out).
  bool ready(const proxy::RdsRouteSlot& slot) const;

  struct Entry {
    std::string path;
    std::shared_ptr<proxy::RdsRouteSlot> slot;
    std::shared_ptr<const router::RouteTable> table;  // null: not arrived yet
    envoy::config::route::v3::RouteConfiguration config;
    std::string version_info;
    std::chrono::system_clock::time_point last_updated;
    bool timed_out = false;
    std::unique_ptr<asio::steady_timer> initial_fetch;
  };
  // By "path\nname" (admin /config_dump).
  const std::map<std::string, Entry>& entries() const { return entries_; }

 private:
  class Callbacks;
  // An update of the file at `path`, for every entry it feeds; a rejected
  // route configuration keeps what its entry had (false, with `error`).
  bool onUpdate(const std::string& path, const config::DiscoveryUpdate& update, std::string& error);
  // Applies `update`'s configuration for `entry`, if it has one and it changed.
  bool update(Entry& entry, const config::DiscoveryUpdate& update, std::string& error);
  void accept(Entry& entry, std::shared_ptr<const router::RouteTable> table);

  asio::io_context& main_;
  config::FileWatcher& watcher_;
  const size_t workers_;
  Publish publish_;
  std::function<void()> warmed_;
  std::map<std::string, Entry> entries_;
  struct Source {
    std::unique_ptr<config::SubscriptionCallbacks> callbacks;
    std::unique_ptr<config::FileSubscription> subscription;
    config::DiscoveryUpdate last;  // the file's last accepted content, for entries added later
  };
  std::map<std::string, Source> sources_;  // by path
};

}  // namespace sluice::server
