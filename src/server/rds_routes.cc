#include "server/rds_routes.h"

#include "config/proto_hash.h"
#include "config/semantic_validator.h"
#include "config/xds/subscription_factory.h"
#include "log/logger.h"
#include "router/route_table.h"

namespace sluice::server {

using envoy::config::route::v3::RouteConfiguration;

RdsRoutes::RdsRoutes(asio::io_context& main, config::FileWatcher& watcher, size_t workers, stats::Store& store,
                     Publish publish, std::function<void()> warmed)
    : main_(main),
      watcher_(watcher),
      workers_(workers),
      store_(store),
      publish_(std::move(publish)),
      warmed_(std::move(warmed)) {}

std::vector<std::string> RdsRoutes::adsNames() const {
  std::vector<std::string> names;
  for (const auto& [key, entry] : entries_) {
    if (entry.path.empty()) names.push_back(entry.slot->route_config_name);
  }
  return names;  // sorted: the keys are "\n<name>"
}

std::shared_ptr<proxy::RdsRouteSlot> RdsRoutes::slot(
    const envoy::extensions::filters::network::http_connection_manager::v3::Rds& rds, const std::string& stat_prefix) {
  const auto& source = rds.config_source();
  const bool over_ads = source.has_ads() && ads_ != nullptr;
  const std::string path = over_ads ? std::string() : source.path_config_source().path();
  const std::string key = path + '\n' + rds.route_config_name();
  auto [it, added] = entries_.try_emplace(key);
  Entry& entry = it->second;
  if (!added) return entry.slot;
  entry.path = path;
  entry.slot = std::make_shared<proxy::RdsRouteSlot>(rds.route_config_name(), workers_);
  const std::string prefix = "http." + stat_prefix + ".rds." + rds.route_config_name();
  entry.update_success = &store_.counter(prefix + ".update_success");
  entry.update_rejected = &store_.counter(prefix + ".update_rejected");
  auto [found, fresh] = sources_.try_emplace(path);
  Source& file = found->second;
  if (fresh) {
    // Over ADS: requested now, after LDS (this runs when a listener naming it
    // is compiled). A file not written yet is no error: its listeners warm until it is.
    file.callbacks = std::make_unique<config::FunctionCallbacks>(
        [this, path](const config::DiscoveryUpdate& update, std::string& error) {
          return onUpdate(path, update, error);
        },
        [path](const std::string& error) {
          SLUICE_LOG(config, warn, "sluice: RDS {} update rejected, keeping the previous routes: {}",
                     path.empty() ? std::string("over ADS") : path, error);
        });
    file.subscription =
        config::xds::makeSubscription({watcher_, ads_}, source, "envoy.config.route.v3.RouteConfiguration",
                                      over_ads ? adsNames() : std::vector<std::string>{}, *file.callbacks, true);
    std::string error;
    if (!file.subscription->start(error)) file.callbacks->onConfigUpdateFailed(error);
  } else if (over_ads) {
    file.subscription->updateResourceInterest(adsNames());  // the new name is requested; its config comes in the answer
  } else {
    std::string error;
    if (!update(entry, file.last, error)) file.callbacks->onConfigUpdateFailed(error);
  }
  const auto timeout = config::initialFetchTimeout(source);
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

void RdsRoutes::retain(const std::set<const proxy::RdsRouteSlot*>& used) {
  bool ads_names_changed = false;
  std::erase_if(entries_, [&](const auto& keyed) {
    const Entry& entry = keyed.second;
    if (used.count(entry.slot.get())) return false;
    ads_names_changed = ads_names_changed || entry.path.empty();
    SLUICE_LOG(config, info, "sluice: RDS '{}' is used by no listener any more: dropped",
               entry.slot->route_config_name);
    return true;  // its initial_fetch timer is cancelled with it
  });
  const auto ads = sources_.find("");
  if (ads_names_changed && ads != sources_.end()) ads->second.subscription->updateResourceInterest(adsNames());
}

void RdsRoutes::accept(Entry& entry, std::shared_ptr<const router::RouteTable> table) {
  const bool was_ready = entry.table || entry.timed_out;
  entry.table = table;
  publish_(entry.slot, std::move(table));
  if (!was_ready) warmed_();
}

bool RdsRoutes::onUpdate(const std::string& path, const config::DiscoveryUpdate& update, std::string& error) {
  // All or nothing: every route configuration of the update is checked and
  // compiled before any is applied (a rejected one NACKs the whole response).
  std::vector<Compiled> compiled;
  bool ok = true;
  for (auto& [key, entry] : entries_) {
    if (entry.path != path) continue;
    Compiled c;
    if (!compile(entry, update, error, c)) {
      ok = false;
      entry.update_rejected->inc();
    } else if (c.config != nullptr) {
      compiled.push_back(c);
    }
  }
  if (!ok) return false;
  sources_[path].last = update;
  for (const auto& c : compiled) commit(c, update.version_info);
  return true;
}

bool RdsRoutes::compile(Entry& entry, const config::DiscoveryUpdate& update, std::string& error, Compiled& out) {
  out.entry = &entry;
  for (const auto& r : update.resources) {
    if (r.name == entry.slot->route_config_name) out.config = static_cast<const RouteConfiguration*>(r.message.get());
  }
  // Not in this update: keep what it has (a file not written yet; over ADS,
  // Envoy's rule: a route configuration is dropped only with its listeners).
  if (out.config == nullptr) return true;
  if (entry.table && config::protoHash(*out.config) == config::protoHash(entry.config)) return true;
  const std::string where = "route_config '" + out.config->name() + "'";
  config::ErrorList errors;
  config::checkRouteConfiguration(*out.config, where, errors);
  out.table = errors.empty() ? router::RouteTable::build(*out.config, where, errors) : nullptr;
  if (!out.table) {
    error += (error.empty() ? "" : "\n") + errors.toString();
    return false;
  }
  return true;
}

void RdsRoutes::commit(const Compiled& c, const std::string& version_info) {
  Entry& entry = *c.entry;
  entry.update_success->inc();
  if (!c.table) return;  // unchanged
  entry.config = *c.config;
  entry.version_info = version_info;
  entry.last_updated = std::chrono::system_clock::now();
  if (entry.initial_fetch) entry.initial_fetch->cancel();
  accept(entry, c.table);
  SLUICE_LOG(config, info, "sluice: RDS '{}' update applied (version '{}')", c.config->name(), version_info);
}

bool RdsRoutes::update(Entry& entry, const config::DiscoveryUpdate& update, std::string& error) {
  Compiled c;
  if (!compile(entry, update, error, c)) {
    entry.update_rejected->inc();
    return false;
  }
  if (c.config != nullptr) commit(c, update.version_info);
  return true;
}

}  // namespace sluice::server
