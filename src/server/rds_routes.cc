#include "server/rds_routes.h"

#include <google/protobuf/util/time_util.h>

#include "config/proto_hash.h"
#include "config/semantic_validator.h"
#include "log/logger.h"
#include "router/route_table.h"

namespace sluice::server {

using envoy::config::route::v3::RouteConfiguration;

RdsRoutes::RdsRoutes(asio::io_context& main, config::FileWatcher& watcher, size_t workers, Publish publish,
                     std::function<void()> warmed)
    : main_(main), watcher_(watcher), workers_(workers), publish_(std::move(publish)), warmed_(std::move(warmed)) {}

class RdsRoutes::Callbacks final : public config::SubscriptionCallbacks {
 public:
  Callbacks(RdsRoutes& routes, std::string path) : routes_(routes), path_(std::move(path)) {}
  bool onConfigUpdate(const config::DiscoveryUpdate& update, std::string& error) override {
    return routes_.onUpdate(path_, update, error);
  }
  void onConfigUpdateFailed(const std::string& error) override {
    SLUICE_LOG(config, warn, "sluice: RDS {} update rejected, keeping the previous routes: {}", path_, error);
  }

 private:
  RdsRoutes& routes_;
  const std::string path_;
};

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
  auto [found, fresh] = sources_.try_emplace(path);
  Source& file = found->second;
  if (fresh) {
    // A file not written yet is no error: its listeners warm until it is.
    file.callbacks = std::make_unique<Callbacks>(*this, path);
    file.subscription = std::make_unique<config::FileSubscription>(
        watcher_, source, "envoy.config.route.v3.RouteConfiguration", *file.callbacks);
    file.subscription->setOptional(true);
    std::string error;
    if (!file.subscription->start(error)) file.callbacks->onConfigUpdateFailed(error);
  } else {
    std::string error;
    if (!update(entry, file.last, error)) file.callbacks->onConfigUpdateFailed(error);
  }
  const auto timeout = source.has_initial_fetch_timeout()
                           ? std::chrono::milliseconds(google::protobuf::util::TimeUtil::DurationToMilliseconds(
                                 source.initial_fetch_timeout()))
                           : std::chrono::milliseconds(15000);  // Envoy's default
  if (!entry.table && timeout.count() > 0) {
    entry.initial_fetch = std::make_unique<asio::steady_timer>(main_, timeout);
    entry.initial_fetch->async_wait([this, key](const std::error_code& ec) {
      if (ec) return;
      auto waiting = entries_.find(key);
      if (waiting == entries_.end() || waiting->second.table) return;
      SLUICE_LOG(config, warn,
                 "sluice: RDS '{}' did not arrive within initial_fetch_timeout; serving no routes until it does",
                 waiting->second.slot->route_config_name);
      // Served from now on with an empty table; the real one still replaces it when it comes.
      waiting->second.timed_out = true;
      config::ErrorList ignored;
      publish_(waiting->second.slot, router::RouteTable::build(RouteConfiguration(), "", ignored));
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

bool RdsRoutes::onUpdate(const std::string& path, const config::DiscoveryUpdate& update, std::string& error) {
  sources_[path].last = update;
  bool ok = true;
  for (auto& [key, entry] : entries_) {
    if (entry.path == path && !this->update(entry, update, error)) ok = false;
  }
  return ok;
}

bool RdsRoutes::update(Entry& entry, const config::DiscoveryUpdate& update, std::string& error) {
  const RouteConfiguration* found = nullptr;
  for (const auto& r : update.resources) {
    if (r.name == entry.slot->route_config_name) found = static_cast<const RouteConfiguration*>(r.message.get());
  }
  if (found == nullptr) return true;  // not in this file (yet): keep what it has
  if (entry.table && config::protoHash(*found) == config::protoHash(entry.config)) return true;
  const std::string where = "route_config '" + found->name() + "'";
  config::ErrorList errors;
  config::checkRouteConfiguration(*found, where, errors);
  auto table = errors.empty() ? router::RouteTable::build(*found, where, errors) : nullptr;
  if (!table) {
    error += (error.empty() ? "" : "\n") + errors.toString();
    return false;
  }
  entry.config = *found;
  entry.version_info = update.version_info;
  entry.last_updated = std::chrono::system_clock::now();
  if (entry.initial_fetch) entry.initial_fetch->cancel();
  accept(entry, std::move(table));
  SLUICE_LOG(config, info, "sluice: RDS '{}' update applied (version '{}')", found->name(), update.version_info);
  return true;
}

}  // namespace sluice::server
