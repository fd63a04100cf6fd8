#include "server/rds_routes.h"

#include <algorithm>

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

std::vector<std::string> RdsRoutes::namesOf(const std::string& source) const {
  std::vector<std::string> names;
  for (const auto& [key, entry] : entries_) {
    if (entry.source == source) names.push_back(entry.slot->route_config_name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::shared_ptr<proxy::RdsRouteSlot> RdsRoutes::slot(
    const envoy::extensions::filters::network::http_connection_manager::v3::Rds& rds, const std::string& stat_prefix) {
  const auto& config_source = rds.config_source();
  const std::string source = config::xds::sourceKey(config_source);
  const std::string key = source + '\n' + rds.route_config_name();
  auto [it, added] = entries_.try_emplace(key);
  Entry& entry = it->second;
  if (!added) return entry.slot;
  entry.source = source;
  entry.config_source = config_source;
  entry.slot = std::make_shared<proxy::RdsRouteSlot>(rds.route_config_name(), workers_);
  const std::string prefix = "http." + stat_prefix + ".rds." + rds.route_config_name();
  entry.stats = std::make_unique<SubscriptionStats>(store_, prefix);
  entry.config_reload = &store_.counter(prefix + ".config_reload");
  if (held_ && config::xds::overGrpc(config_source)) {
    held_keys_.push_back(key);  // requested at release(), after CDS
    return entry.slot;
  }
  subscribe(entry);
  armInitialFetch(key);
  return entry.slot;
}

void RdsRoutes::release() {
  if (!held_) return;
  held_ = false;
  const auto keys = std::move(held_keys_);
  held_keys_.clear();
  // One subscription per source, made with every name it has: one request each.
  std::set<std::string> subscribed;
  for (const auto& key : keys) {
    const auto it = entries_.find(key);  // retain() may have dropped it since
    if (it != entries_.end() && subscribed.insert(it->second.source).second) subscribe(it->second);
  }
  for (const auto& key : keys) {
    if (entries_.count(key)) armInitialFetch(key);
  }
}

void RdsRoutes::subscribe(Entry& entry) {
  const auto& config_source = entry.config_source;
  const bool over_grpc = config::xds::overGrpc(config_source);
  const std::string& source = entry.source;
  auto [found, fresh] = sources_.try_emplace(source);
  Source& from = found->second;
  if (fresh) {
    // Over gRPC: requested now, after LDS (this runs when a listener naming it
    // is compiled). A file not written yet is no error: its listeners warm until it is.
    const std::string label = source.empty() ? "over ADS"
                              : over_grpc    ? "over its api_config_source"
                                             : config_source.path_config_source().path();
    from.callbacks = std::make_unique<config::FunctionCallbacks>(
        [this, source](const config::DiscoveryUpdate& update, std::string& error) {
          return onUpdate(source, update, error);
        },
        [label](const std::string& error) {
          SLUICE_LOG(config, warn, "sluice: RDS {} update rejected, keeping the previous routes: {}", label, error);
        },
        [this, source] {
          for (auto& [unused, fed] : entries_) {
            if (fed.source != source) continue;
            fed.stats->attempt.inc();
            fed.stats->failure.inc();
          }
        });
    from.subscription =
        config::xds::makeSubscription({watcher_, ads_, api_}, config_source, "envoy.config.route.v3.RouteConfiguration",
                                      over_grpc ? namesOf(source) : std::vector<std::string>{}, *from.callbacks, true);
    std::string error;
    if (!from.subscription->start(error)) from.callbacks->onConfigUpdateFailed(error);
  } else if (over_grpc) {
    from.subscription->updateResourceInterest(
        namesOf(source));  // the new name is requested; its config comes in the answer
  } else {
    std::string error;
    if (!update(entry, from.last, error)) from.callbacks->onConfigUpdateFailed(error);
  }
}

void RdsRoutes::armInitialFetch(const std::string& key) {
  Entry& entry = entries_.at(key);
  const auto timeout = config::initialFetchTimeout(entry.config_source);
  if (entry.table || timeout.count() <= 0) return;
  entry.initial_fetch = std::make_unique<asio::steady_timer>(main_, timeout);
  entry.initial_fetch->async_wait([this, key](const std::error_code& ec) {
    if (ec) return;
    auto waiting = entries_.find(key);
    if (waiting == entries_.end() || waiting->second.table) return;
    waiting->second.stats->init_fetch_timeout.inc();
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

bool RdsRoutes::ready(const proxy::RdsRouteSlot& slot) const {
  for (const auto& [key, entry] : entries_) {
    if (entry.slot.get() == &slot) return entry.table || entry.timed_out;
  }
  return false;
}

void RdsRoutes::retain(const std::set<const proxy::RdsRouteSlot*>& used) {
  std::set<std::string> changed;  // sources that lost a name
  std::erase_if(entries_, [&](const auto& keyed) {
    const Entry& entry = keyed.second;
    if (used.count(entry.slot.get())) return false;
    changed.insert(entry.source);
    SLUICE_LOG(config, info, "sluice: RDS '{}' is used by no listener any more: dropped",
               entry.slot->route_config_name);
    return true;  // its initial_fetch timer is cancelled with it
  });
  // Over gRPC the names leave the subscription; a file's subscription asks for no names.
  for (const auto& source : changed) {
    const auto it = sources_.find(source);
    if (it != sources_.end()) it->second.subscription->updateResourceInterest(namesOf(source));
  }
}

void RdsRoutes::accept(Entry& entry, std::shared_ptr<const router::RouteTable> table) {
  const bool was_ready = entry.table || entry.timed_out;
  entry.table = table;
  publish_(entry.slot, std::move(table));
  if (!was_ready) warmed_();
}

bool RdsRoutes::onUpdate(const std::string& source, const config::DiscoveryUpdate& update, std::string& error) {
  // All or nothing: every route configuration of the update is checked and
  // compiled before any is applied (a rejected one NACKs the whole response).
  std::vector<Compiled> compiled;
  std::vector<Entry*> named;  // the entries this update has a configuration for
  bool ok = true;
  for (auto& [key, entry] : entries_) {
    if (entry.source != source) continue;
    Compiled c;
    ok = compile(entry, update, error, c) && ok;
    if (c.config != nullptr) {
      named.push_back(&entry);
      compiled.push_back(c);
    }
  }
  for (auto* entry : named) entry->stats->attempt.inc();
  if (!ok) {
    for (auto* entry : named) entry->stats->rejected.inc();  // the update is refused whole
    return false;
  }
  sources_[source].last = update;
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
  entry.stats->applied(version_info);
  if (!c.table) return;  // unchanged
  entry.config_reload->inc();
  entry.config = *c.config;
  entry.version_info = version_info;
  entry.last_updated = std::chrono::system_clock::now();
  if (entry.initial_fetch) entry.initial_fetch->cancel();
  accept(entry, c.table);
  SLUICE_LOG(config, info, "sluice: RDS '{}' update applied (version '{}')", c.config->name(), version_info);
}

bool RdsRoutes::update(Entry& entry, const config::DiscoveryUpdate& update, std::string& error) {
  Compiled c;
  const bool ok = compile(entry, update, error, c);
  if (c.config == nullptr) return ok;
  entry.stats->attempt.inc();
  if (!ok) {
    entry.stats->rejected.inc();
    return false;
  }
  commit(c, update.version_info);
  return true;
}

}  // namespace sluice::server
