#include "server/options.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <thread>

#include "log/logger.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.0.0"
#endif

namespace sluice::server {
namespace {

bool parseUint32(const std::string& text, uint32_t& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string normaliseLevel(const std::string& level) { return level == "warn" ? "warning" : level; }

}  // namespace

const std::vector<std::string>& logLevels() {
  static const std::vector<std::string> levels = [] {
    std::vector<std::string> names;
    for (size_t i = 0; i < log::kLevelCount; ++i) names.emplace_back(log::levelName(static_cast<log::Level>(i)));
    return names;
  }();
  return levels;
}

const std::vector<std::string>& logComponents() {
  static const std::vector<std::string> components = [] {
    std::vector<std::string> names;
    for (size_t i = 0; i < log::kComponentCount; ++i) {
      names.emplace_back(log::componentName(static_cast<log::Component>(i)));
    }
    return names;
  }();
  return components;
}

std::string versionString() { return std::string("sluice version: ") + SLUICE_VERSION + " (Envoy v3 API)"; }

std::string usage() {
  return "Usage: sluice [options]\n"
         "\n"
         "  -c, --config-path FILE          bootstrap file: .yaml, .yml, .json, .pb or .pb_text\n"
         "      --config-yaml STRING        bootstrap YAML/JSON, merged over the file\n"
         "      --mode serve|validate|route-check\n"
         "                                  validate: check the config, print the result, exit;\n"
         "                                  route-check: run route tests against it (default: serve)\n"
         "      --concurrency N             worker threads (default: number of cores)\n"
         "  -l, --log-level LEVEL           trace, debug, info, warning, error, critical, off (default: info)\n"
         "      --component-log-level C:L[,C:L...]\n"
         "                                  per-component levels; components: admin, config, connection,\n"
         "                                  dns, http, main, pool, router, runtime, upstream\n"
         "      --log-format FORMAT         log line layout (default: \"[%Y-%m-%d %T.%e][%t][%l][%n] [%g:%#] %v\")\n"
         "      --log-format-escaped        C-escape each log line, so a message never spans lines\n"
         "      --log-path FILE             write the log to FILE instead of stderr (reopened on SIGUSR1)\n"
         "      --service-node NAME         node.id\n"
         "      --service-cluster NAME      node.cluster\n"
         "      --service-zone NAME         node.locality.zone\n"
         "      --drain-time-s N            seconds to drain connections on shutdown (default: 600)\n"
         "      --parent-shutdown-time-s N  seconds before a hot-restart parent exits (default: 900)\n"
         "      --base-id N                 shared-memory base id for hot restart (default: 0)\n"
         "      --restart-epoch N           hot-restart epoch (default: 0)\n"
         "      --admin-address-path FILE   write the admin address (ip:port) to FILE once listening\n"
         "      --version                   print the version and exit\n"
         "  -h, --help                      print this help and exit\n"
         "\n"
         "--mode route-check (Envoy's router check tool; docs/ROUTE_CHECK.md):\n"
         "  -t, --tests, --test-path FILE   the route tests (YAML or JSON, Envoy's router check schema)\n"
         "      --route-config NAME         the route configuration to test, when the config has several\n"
         "  -d, --details                   print each test's result and what it matched\n"
         "      --only-show-failures        print failed tests only\n"
         "      --coverage                  print the share of routes the tests cover\n"
         "      --covall                    coverage counts every checkable field of each route\n"
         "      --detailed-coverage         name the routes no passing check covers\n"
         "  -f, --fail-under PERCENT        fail when the coverage is below PERCENT\n";
}

ParseResult parseOptions(const std::vector<std::string>& args) {
  ParseResult result;
  Options& o = result.options;
  o.args = args;
  auto fail = [&](const std::string& message) {
    result.outcome = ParseOutcome::Error;
    result.message = "error: " + message;
    return result;
  };

  auto uintFlag = [](uint32_t& target) {
    return [&target](const std::string& v) -> std::string {
      return parseUint32(v, target) ? "" : "expects a non-negative integer, got '" + v + "'";
    };
  };
  auto stringFlag = [](std::string& target) {
    return [&target](const std::string& v) -> std::string {
      target = v;
      return "";
    };
  };
  // The flags only --mode route-check reads; the first one given, to name it
  // when the mode is another.
  const std::vector<std::string> route_check_only = {"--tests",      "--test-path",         "--route-config",
                                                     "--fail-under", "--details",           "--coverage",
                                                     "--covall",     "--detailed-coverage", "--only-show-failures"};
  std::string route_check_flag;
  // Each flag with a value: its handler returns "" or what is wrong.
  const std::map<std::string, std::function<std::string(const std::string&)>> with_value = {
      {"--config-path", stringFlag(o.config_path)},
      {"--config-yaml", stringFlag(o.config_yaml)},
      {"--mode",
       [&](const std::string& v) -> std::string {
         if (v == "serve")
           o.mode = Mode::Serve;
         else if (v == "validate")
           o.mode = Mode::Validate;
         else if (v == "route-check")
           o.mode = Mode::RouteCheck;
         else
           return "expects serve, validate or route-check, got '" + v + "'";
         return "";
       }},
      {"--concurrency",
       [&](const std::string& v) -> std::string {
         if (!parseUint32(v, o.concurrency) || o.concurrency == 0) return "expects a positive integer, got '" + v + "'";
         return "";
       }},
      {"--log-level",
       [&](const std::string& v) -> std::string {
         if (!contains(logLevels(), normaliseLevel(v))) return "unknown level '" + v + "'";
         o.log_level = normaliseLevel(v);
         return "";
       }},
      {"--component-log-level",
       [&](const std::string& v) -> std::string {
         size_t start = 0;
         while (start <= v.size()) {
           const size_t comma = std::min(v.find(',', start), v.size());
           const std::string item = v.substr(start, comma - start);
           const size_t colon = item.find(':');
           if (colon == std::string::npos) return "expects COMPONENT:LEVEL, got '" + item + "'";
           const std::string component = item.substr(0, colon);
           const std::string level = normaliseLevel(item.substr(colon + 1));
           if (!contains(logComponents(), component)) return "unknown component '" + component + "'";
           if (!contains(logLevels(), level)) return "unknown level '" + item.substr(colon + 1) + "'";
           o.component_log_levels[component] = level;
           start = comma + 1;
         }
         return "";
       }},
      {"--log-format",
       [&](const std::string& v) -> std::string {
         if (std::string problem = log::checkFormat(v); !problem.empty()) return problem.substr(problem.find(' ') + 1);
         o.log_format = v;
         return "";
       }},
      {"--log-path", stringFlag(o.log_path)},
      {"--service-node", stringFlag(o.service_node)},
      {"--service-cluster", stringFlag(o.service_cluster)},
      {"--service-zone", stringFlag(o.service_zone)},
      {"--drain-time-s", uintFlag(o.drain_time_s)},
      {"--parent-shutdown-time-s", uintFlag(o.parent_shutdown_time_s)},
      {"--base-id", uintFlag(o.base_id)},
      {"--restart-epoch", uintFlag(o.restart_epoch)},
      {"--admin-address-path", stringFlag(o.admin_address_path)},
      {"--tests", stringFlag(o.route_check.tests_path)},
      {"--test-path", stringFlag(o.route_check.tests_path)},
      {"--route-config", stringFlag(o.route_check.route_config)},
      {"--fail-under",
       [&](const std::string& v) -> std::string {
         double percent = 0;
         const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), percent);
         if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || !(percent >= 0 && percent <= 100)) {
           return "expects a percentage from 0 to 100, got '" + v + "'";
         }
         o.route_check.fail_under = percent;
         return "";
       }},
  };
  // Flags without a value.
  const std::map<std::string, bool*> switches = {
      {"--log-format-escaped", &o.log_format_escaped},
      {"--details", &o.route_check.details},
      {"--only-show-failures", &o.route_check.only_show_failures},
      {"--coverage", &o.route_check.coverage},
      {"--covall", &o.route_check.comprehensive},
      {"--detailed-coverage", &o.route_check.detailed_coverage},
  };
  const std::map<std::string, std::string> short_names = {{"-c", "--config-path"},
                                                          {"-l", "--log-level"},
                                                          {"-t", "--test-path"},
                                                          {"-d", "--details"},
                                                          {"-f", "--fail-under"}};

  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> value;
    if (flag.rfind("--", 0) == 0) {
      if (const auto eq = flag.find('='); eq != std::string::npos) {
        value = flag.substr(eq + 1);
        flag = flag.substr(0, eq);
      }
    } else if (auto it = short_names.find(flag); it != short_names.end()) {
      flag = it->second;
    } else if (flag == "-h") {
      flag = "--help";
    }
    if (const auto it = switches.find(flag); it != switches.end()) {
      if (value) return fail(flag + " takes no value");
      *it->second = true;
      if (route_check_flag.empty() && contains(route_check_only, flag)) route_check_flag = flag;
      continue;
    }
    if (flag == "--help" || flag == "--version") {
      if (value) return fail(flag + " takes no value");
      result.outcome = flag == "--help" ? ParseOutcome::PrintedHelp : ParseOutcome::PrintedVersion;
      result.message = flag == "--help" ? usage() : versionString() + "\n";
      return result;
    }
    const auto handler = with_value.find(flag);
    if (handler == with_value.end()) return fail("unknown flag '" + args[i] + "'");
    if (route_check_flag.empty() && contains(route_check_only, flag)) route_check_flag = flag;
    if (!value) {
      if (i + 1 >= args.size()) return fail(flag + " needs a value");
      value = args[++i];
    }
    if (const std::string problem = handler->second(*value); !problem.empty()) return fail(flag + " " + problem);
  }
  if (o.config_path.empty() && o.config_yaml.empty())
    return fail("no configuration: give -c FILE or --config-yaml STRING");
  if (o.mode == Mode::RouteCheck && o.route_check.tests_path.empty()) {
    return fail("--mode route-check needs --tests FILE (the route tests, YAML or JSON)");
  }
  if (o.mode != Mode::RouteCheck && !route_check_flag.empty()) {
    return fail(route_check_flag + " is a flag of --mode route-check");
  }
  if (o.log_format.empty()) o.log_format = std::string(log::kDefaultFormat);
  if (o.concurrency == 0) o.concurrency = std::max(1u, std::thread::hardware_concurrency());
  result.outcome = ParseOutcome::Run;
  return result;
}

}  // namespace sluice::server
