// The process-level stats (server.*, the access-log writer's counters), the
// bootstrap's stats_config.stats_matcher and the admin stats endpoints
// (/stats, /stats/prometheus, /reset_counters). Main thread.
#pragma once

#include <envoy/config/bootstrap/v3/bootstrap.pb.h>

#include <functional>
#include <string>

#include "accesslog/log_writer.h"
#include "admin/admin_server.h"
#include "config/config_error.h"
#include "proxy/proxy_config.h"
#include "stats/stats.h"

namespace sluice::server {

// The rejector stats_config.stats_matcher describes (empty: every stat is
// kept); a pattern that does not compile is an error, by path.
std::function<bool(std::string_view)> compileStatsMatcher(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                                          config::ErrorList& errors);
// False (with `error`) when a pattern does not compile.
bool installStatsMatcher(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, stats::Store& store,
                         std::string& error);
// `connections`: the server's downstream connection count (server.total_connections).
void installServerStats(stats::Store& store, uint32_t concurrency, std::function<bool()> live,
                        const accesslog::LogWriter& access_log_writer, const proxy::ConnectionCount& connections);
// `default_tags`: stats_config.use_all_default_tags (Envoy's default: true).
void installStatsHandlers(admin::AdminServer& admin, stats::Store& store, bool default_tags);

}  // namespace sluice::server
