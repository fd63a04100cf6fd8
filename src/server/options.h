// Command-line options, with Envoy's flag names and defaults where sluice
// implements the flag. Parsed once on the main thread, then read-only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::server {

enum class Mode { Serve, Validate, RouteCheck };

// --mode route-check: route tests run against the config's route table
// (server/route_check.h). Envoy's router_check_tool flag names where it has one.
struct RouteCheckOptions {
  std::string tests_path;    // --tests (Envoy's -t/--test-path)
  std::string route_config;  // --route-config NAME: which table, when the config has several
  bool details = false;      // -d/--details
  bool only_show_failures = false;
  bool coverage = false;             // --coverage: print the route coverage
  bool comprehensive = false;        // --covall: coverage of every checkable field of each route
  bool detailed_coverage = false;    // --detailed-coverage: name the routes no test covers
  std::optional<double> fail_under;  // -f/--fail-under PERCENT
};

struct Options {
  std::string config_path;
  std::string config_yaml;
  Mode mode = Mode::Serve;
  uint32_t concurrency = 0;  // 0 until parsed: the number of cores
  std::string log_level = "info";
  std::map<std::string, std::string> component_log_levels;
  std::string log_format;  // "" until parsed: Envoy's default
  std::string log_path;    // "" is stderr
  bool log_format_escaped = false;
  std::string service_node;
  std::string service_cluster;
  std::string service_zone;
  uint32_t drain_time_s = 600;
  uint32_t parent_shutdown_time_s = 900;
  uint32_t base_id = 0;
  uint32_t restart_epoch = 0;
  std::string admin_address_path;  // where to write the admin address once bound
  std::vector<std::string> args;   // as given, for /server_info
  RouteCheckOptions route_check;
};

enum class ParseOutcome { Run, PrintedHelp, PrintedVersion, Error };

struct ParseResult {
  ParseOutcome outcome = ParseOutcome::Error;
  Options options;
  std::string message;  // help, version, or the error (then followed by the usage)
};

ParseResult parseOptions(const std::vector<std::string>& args);

std::string usage();
std::string versionString();

// The log levels and components `-l` and `--component-log-level` accept.
const std::vector<std::string>& logLevels();
const std::vector<std::string>& logComponents();

}  // namespace sluice::server
