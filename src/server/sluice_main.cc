// sluice: the data plane. Parses the command line, loads and validates the
// bootstrap, then validates (--mode validate), runs route tests against it
// (--mode route-check) or serves.
#include <iostream>
#include <string>
#include <vector>

#include "common/process_signals.h"
#include "config/bootstrap_loader.h"
#include "log/logger.h"
#include "server/config_compiler.h"
#include "server/options.h"
#include "server/route_check.h"
#include "server/server.h"

namespace {

using sluice::server::Mode;
using sluice::server::ParseOutcome;

// Applies the --service-* overrides to the bootstrap's node, as Envoy does.
void applyNodeOverrides(const sluice::server::Options& options, envoy::config::bootstrap::v3::Bootstrap& bootstrap) {
  if (!options.service_node.empty()) bootstrap.mutable_node()->set_id(options.service_node);
  if (!options.service_cluster.empty()) bootstrap.mutable_node()->set_cluster(options.service_cluster);
  if (!options.service_zone.empty()) bootstrap.mutable_node()->mutable_locality()->set_zone(options.service_zone);
}

}  // namespace

int main(int argc, char** argv) {
  // First, before the log writer or any worker thread exists.
  sluice::common::ignoreHangupAndBrokenPipe();
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto parsed = sluice::server::parseOptions(args);
  switch (parsed.outcome) {
    case ParseOutcome::PrintedHelp:
    case ParseOutcome::PrintedVersion:
      std::cout << parsed.message;
      return 0;
    case ParseOutcome::Error:
      std::cerr << parsed.message << "\n\n" << sluice::server::usage();
      return 1;
    case ParseOutcome::Run:
      break;
  }
  const auto& options = parsed.options;
  // Envoy's router check tool reads a route configuration file: so does route-check.
  if (options.mode == Mode::RouteCheck && options.config_yaml.empty() &&
      sluice::server::isRouteConfigurationFile(options.config_path)) {
    return sluice::server::runRouteCheckOnRouteConfiguration(options, std::cout, std::cerr);
  }
  const std::string name = options.config_path.empty() ? "--config-yaml" : options.config_path;

  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  sluice::config::ErrorList errors;
  if (sluice::config::readBootstrap({options.config_path, options.config_yaml}, bootstrap, errors)) {
    applyNodeOverrides(options, bootstrap);
    sluice::config::validateBootstrap(bootstrap, errors);
    // --mode validate then compiles everything serve compiles (regexes,
    // formats, filters, file resources), so it refuses what serve refuses.
    // Serve compiles in Server::start, after the stats matcher is installed
    // (compiling creates the listeners' stats).
    if (errors.empty() && options.mode == Mode::Validate) sluice::server::checkConfig(bootstrap, errors);
  }
  if (errors.empty() && options.mode == Mode::RouteCheck) {
    return sluice::server::runRouteCheck(options, bootstrap, std::cout, std::cerr);
  }
  if (!errors.empty()) {
    std::cerr << "configuration '" << name << "' is invalid (" << errors.size()
              << (errors.size() == 1 ? " error" : " errors") << "):\n"
              << errors.toString();
    return 1;
  }
  if (options.mode == Mode::Validate) {
    std::cout << "configuration '" << name << "' OK\n";
    return 0;
  }
  // The application log: levels from -l, then --component-log-level; the
  // writer thread starts before the workers and stops after them.
  namespace log = sluice::log;
  log::setAllLevels(*log::parseLevel(options.log_level, true));
  for (const auto& [component, level] : options.component_log_levels) {
    log::setLevel(*log::parseComponent(component), *log::parseLevel(level, true));
  }
  log::Config log_config;
  log_config.format = options.log_format;
  log_config.escaped = options.log_format_escaped;
  log_config.path = options.log_path;
  std::string error;
  if (!log::init(log_config, error)) {
    std::cerr << "error: " << error << "\n";
    return 1;
  }
  int code = 0;
  {
    sluice::server::Server server(options, std::move(bootstrap));
    code = server.run();
  }
  // The server's signal_set put SIGHUP back to its default when it went.
  sluice::common::ignoreHangupAndBrokenPipe();
  log::shutdown();
  return code;
}
