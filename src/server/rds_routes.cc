#include "server/rds_routes.h"

#include <google/protobuf/util/time_util.h>
#include <sys/stat.h>

#include "config/discovery_file.h"
#include "config/proto_hash.h"
#include "config/semantic_validator.h"
#include "log/logger.h"
#include "router/route_table.h"

namespace sluice::server {

using envoy::config::route::v3::RouteConfiguration;

RdsRoutes::RdsRoutes(asio::io_context& main, config::FileWatcher& watcher, size_t workers, Publish publish,
                     std::function<void()> warmed)
    : main_(main), watcher_(watcher), workers_(workers), publish_(std::move(publish)), warmed_(std::move(warmed)) {}

std::shared_ptr<proxy::RdsRouteSlot> RdsRoutes::slot(
    const envoy::extensions::filters::network::http_connection_manager::v3::Rds& rds) {
  const auto& source = rds.config_source();
  const std::string& path = source.path_config_source().path();
  const std::string key = path + '\n' + rds.route_config_name();
  auto [it, added] = entries_.try_emplace(key);
  Entry& entry = it->second;
  if (!added) return entry.slot;
  entry.path = path;
  entry.slot = std::make_shared<proxy::RdsRouteSlot>(rds.route_config_name(), workers_);
  const auto timeout = source.has_initial_fetch_timeout()
                           ? std::chrono::milliseconds(google::protobuf::util::TimeUtil::DurationToMilliseconds(
                                 source.initial_fetch_timeout()))
                           : std::chrono::milliseconds(15000);  // Envoy's default
  if (!watched_[path]) {
    watched_[path] = true;
    std::string error;
    if (!watcher_.watch(
            path, source.path_config_source().watched_directory().path(), [this, path] { load(path, false); }, error)) {
      SLUICE_LOG(config, warn, "sluice: RDS '{}': cannot watch {}: {}", rds.route_config_name(), path, error);
    }
  }
  load(path, true);
  if (!entry.table && timeout.count() > 0) {
    entry.initial_fetch = std::make_unique<asio::steady_timer>(main_, timeout);
    entry.initial_fetch->async_wait([this, key](const std::error_code& ec) {
      if (ec) return;
      auto found = entries_.find(key);
      if (found == entries_.end() || found->second.table) return;
      SLUICE_LOG(config, warn,
                 "sluice: RDS '{}' did not arrive within initial_fetch_timeout; serving no routes until it does",
                 found->second.slot->route_config_name);
      // Served from now on with an empty table; the real one still replaces it when it comes.
      found->second.timed_out = true;
      config::ErrorList ignored;
      publish_(found->second.slot, router::RouteTable::build(RouteConfiguration(), "", ignored));
      warmed_();
    });
  }
  return entry.slot;
}

bool RdsRoutes::ready(const proxy::RdsRouteSlot& slot) const {
  for (const auto& [key, entry] : entries_) {
    if (entry.slot.get() == &slot) return entry.table || entry.timed_out;
  }
  return false;
}

void RdsRoutes::accept(Entry& entry, std::shared_ptr<const router::RouteTable> table) {
  const bool was_ready = entry.table || entry.timed_out;
  entry.table = table;
  publish_(entry.slot, std::move(table));
  if (!was_ready) warmed_();
}

void RdsRoutes::load(const std::string& path, bool initial) {
  struct stat st {};
  if (initial && ::stat(path.c_str(), &st) != 0) return;  // not written yet: wait for it
  config::DiscoveryFile file;
  config::ErrorList errors;
  if (!config::readDiscoveryFile(path, "envoy.config.route.v3.RouteConfiguration", file, errors)) {
    SLUICE_LOG(config, warn, "sluice: RDS {} update rejected, keeping the previous routes: {}", path,
               errors.toString());
    return;
  }
  for (auto& [key, entry] : entries_) {
    if (entry.path != path) continue;
    const RouteConfiguration* found = nullptr;
    for (const auto& r : file.resources) {
      const auto& rc = static_cast<const RouteConfiguration&>(*r);
      if (rc.name() == entry.slot->route_config_name) found = &rc;
    }
    if (found == nullptr) continue;  // not in this file (yet): keep what it has
    if (entry.table && config::protoHash(*found) == config::protoHash(entry.config)) continue;
    const std::string where = "route_config '" + found->name() + "'";
    config::ErrorList route_errors;
    config::checkRouteConfiguration(*found, where, route_errors);
    auto table = route_errors.empty() ? router::RouteTable::build(*found, where, route_errors) : nullptr;
    if (!table) {
      SLUICE_LOG(config, warn, "sluice: RDS {} update rejected, keeping the previous routes:\n{}", path,
                 route_errors.toString());
      continue;
    }
    entry.config = *found;
    entry.version_info = file.version_info;
    entry.last_updated = std::chrono::system_clock::now();
    if (entry.initial_fetch) entry.initial_fetch->cancel();
    accept(entry, std::move(table));
    SLUICE_LOG(config, info, "sluice: RDS '{}' update applied (version '{}')", found->name(), file.version_info);
  }
}

}  // namespace sluice::server
