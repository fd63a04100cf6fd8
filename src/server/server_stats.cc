#include "server/server_stats.h"

#include <malloc.h>
#include <re2/re2.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <memory>
#include <vector>

#include "config/config_error.h"
#include "log/logger.h"
#include "proxy/connection_count.h"
#include "router/matchers.h"
#include "stats/render.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.0.0"
#endif

#if defined(__SANITIZE_ADDRESS__)
// The sanitizer runtime's allocator statistics (g++ ships no header for them).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
extern "C" size_t __sanitizer_get_heap_size();
#endif

namespace sluice::server {

namespace {

struct HeapBytes {
  int64_t allocated;
  int64_t heap;
};

// The allocator's own figures. Under AddressSanitizer malloc is ASan's, and
// glibc's mallinfo2() reads zeros: ask the sanitizer instead.
HeapBytes heapBytes() {
#if defined(__SANITIZE_ADDRESS__)
  return {static_cast<int64_t>(__sanitizer_get_current_allocated_bytes()),
          static_cast<int64_t>(__sanitizer_get_heap_size())};
#else
  const auto info = ::mallinfo2();
  return {static_cast<int64_t>(info.uordblks + info.hblkhd), static_cast<int64_t>(info.arena + info.hblkhd)};
#endif
}

}  // namespace

std::function<bool(std::string_view)> compileStatsMatcher(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                                          config::ErrorList& errors) {
  if (!bootstrap.has_stats_config() || !bootstrap.stats_config().has_stats_matcher()) return {};
  const auto& matcher = bootstrap.stats_config().stats_matcher();
  if (matcher.has_reject_all()) {
    if (matcher.reject_all()) return [](std::string_view) { return true; };
    return {};
  }
  const bool inclusion = matcher.has_inclusion_list();
  const auto& list = inclusion ? matcher.inclusion_list() : matcher.exclusion_list();
  auto patterns = std::make_shared<std::vector<router::StringMatcher>>();
  const size_t before = errors.size();
  for (int i = 0; i < list.patterns_size(); ++i) {
    auto built = router::StringMatcher::build(list.patterns(i),
                                              std::string("stats_config.stats_matcher.") +
                                                  (inclusion ? "inclusion_list" : "exclusion_list") + ".patterns[" +
                                                  std::to_string(i) + "]",
                                              errors);
    if (built) patterns->push_back(std::move(*built));
  }
  if (errors.size() != before) return {};
  return [patterns, inclusion](std::string_view name) {
    bool any = false;
    for (const auto& p : *patterns) any = any || p.match(name);
    return inclusion ? !any : any;
  };
}

bool installStatsMatcher(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, stats::Store& store,
                         std::string& error) {
  config::ErrorList errors;
  auto rejects = compileStatsMatcher(bootstrap, errors);
  if (!errors.empty()) {
    error = errors.toString();
    return false;
  }
  if (rejects) store.setRejector(std::move(rejects));
  return true;
}

void installServerStats(stats::Store& store, uint32_t concurrency, std::function<bool()> live,
                        const accesslog::LogWriter& access_log_writer, const proxy::ConnectionCount& connections) {
  const auto started = std::chrono::steady_clock::now();
  store.gaugeFunction("server.live", [live = std::move(live)] { return live() ? 1 : 0; });
  store.gaugeFunction("server.uptime", [started] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
  });
  store.gauge("server.concurrency").set(concurrency);
  store.gaugeFunction("server.total_connections", [&connections] { return static_cast<int64_t>(connections.value()); });
  // Envoy reports its build's revision as a number; sluice, its version as
  // major * 10000 + minor * 100 + patch.
  int major = 0, minor = 0, patch = 0;
  std::sscanf(SLUICE_VERSION, "%d.%d.%d", &major, &minor, &patch);
  store.gauge("server.version").set(major * 10000 + minor * 100 + patch);
  // Envoy reads these from tcmalloc; sluice from glibc's malloc (mallinfo2,
  // all arenas) and, for the physical size, the resident set (/proc/self/statm).
  store.gaugeFunction("server.memory_allocated", [] { return heapBytes().allocated; });
  store.gaugeFunction("server.memory_heap_size", [] { return heapBytes().heap; });
  store.gaugeFunction("server.memory_physical_size", [] {
    long pages = 0, resident = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
      std::fclose(f);
    }
    return static_cast<int64_t>(resident) * ::sysconf(_SC_PAGESIZE);
  });

  const auto* counters = &access_log_writer.counters();
  const auto read = [](const std::atomic<uint64_t>& c) { return [&c] { return c.load(std::memory_order_relaxed); }; };
  store.counterFunction("access_log.dropped", read(counters->dropped));
  // Application-log lines dropped because the writer's queue was full (sluice's own; Envoy has none).
  store.counterFunction("application_log.dropped", [] { return log::dropped(); });
  store.counterFunction("filesystem.write_buffered", read(counters->write_buffered));
  // Envoy writes --log-path through the same file layer as access logs, so
  // its filesystem.* stats count both; sluice adds the application log's too.
  store.counterFunction("filesystem.write_completed", [counters] {
    return counters->write_completed.load(std::memory_order_relaxed) + log::writeCounts().completed;
  });
  store.counterFunction("filesystem.write_failed", [counters] {
    return counters->write_failed.load(std::memory_order_relaxed) + log::writeCounts().failed;
  });
  store.counterFunction("filesystem.reopen_failed", [counters] {
    return counters->reopen_failed.load(std::memory_order_relaxed) + log::writeCounts().reopen_failed;
  });
}

void installStatsHandlers(admin::AdminServer& admin, stats::Store& store, bool default_tags) {
  // Shared by /stats and /stats/prometheus: ?filter=REGEX (RE2, partial match) and ?usedonly.
  const auto render = [&store, default_tags](const admin::AdminRequest& request, bool prometheus) {
    admin::AdminResponse r;
    stats::RenderOptions options;
    options.default_tags = default_tags;
    options.used_only = request.hasParam("usedonly");
    std::unique_ptr<re2::RE2> filter;
    if (request.hasParam("filter")) {
      re2::RE2::Options re_options;
      re_options.set_log_errors(false);
      filter = std::make_unique<re2::RE2>(admin::percentDecode(request.param("filter")), re_options);
      if (!filter->ok()) {
        return admin::AdminResponse{400, "text/plain; charset=UTF-8", "Invalid re2 regex: " + filter->error() + "\n"};
      }
      options.filter = filter.get();
    }
    const std::string format = request.param("format");
    if (request.hasParam("histogram_buckets")) {
      // Envoy also has cumulative, disjoint and summary; sluice renders the
      // buckets only as JSON details (what a benchmark diffs between reads).
      if (request.param("histogram_buckets") != "detailed" || prometheus || format != "json") {
        return admin::AdminResponse{400, "text/plain; charset=UTF-8",
                                    "sluice supports histogram_buckets=detailed with format=json only\n"};
      }
      options.detailed_histograms = true;
    }
    if (prometheus || format == "prometheus") {
      r.content_type = "text/plain; version=0.0.4; charset=UTF-8";
      r.body = stats::renderPrometheus(store, options);
    } else if (format == "json") {
      r.content_type = "application/json";
      r.body = stats::renderJson(store, options);
    } else if (format.empty() || format == "text") {
      r.body = stats::renderText(store, options);
    } else {
      return admin::AdminResponse{400, "text/plain; charset=UTF-8", "usage: /stats?format=(json|prometheus|text)\n"};
    }
    return r;
  };
  const admin::AdminServer::Param usedonly{"usedonly",
                                           "Only include stats that have been written by system since restart"};
  const admin::AdminServer::Param filter{"filter", "Regular expression (Google re2) for filtering stats"};
  admin.add("/stats", "print server stats", false,
            [render](const admin::AdminRequest& request) { return render(request, false); },
            {usedonly,
             filter,
             {"format", "Format to use; one of (text, json, prometheus)"},
             {"histogram_buckets", "Histogram bucket display mode; sluice supports detailed (with format=json)"}});
  admin.add("/stats/prometheus", "print server stats in prometheus format", false,
            [render](const admin::AdminRequest& request) { return render(request, true); }, {usedonly, filter});
  admin.add("/reset_counters", "reset all counters to zero", true, [&store](const admin::AdminRequest&) {
    store.resetCounters();
    return admin::AdminResponse{200, "text/plain; charset=UTF-8", "OK\n"};
  });
}

}  // namespace sluice::server
