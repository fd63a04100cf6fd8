// sluice-control: the control plane's process. The main thread runs one
// io_context: the registry source, the debounce, every ADS session and the
// status API; gRPC's threads only carry requests in and responses out
// (ads_server.h).
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <asio/ip/address.hpp>
#include <asio/signal_set.hpp>

#include "admin/admin_server.h"
#include "common/process_signals.h"
#include "control/ads_server.h"
#include "control/control_plane.h"
#include "control/drain_cli.h"
#include "control/drain_controller.h"
#include "control/drain_store.h"
#include "control/drift.h"
#include "control/load_reports.h"
#include "control/node_admin.h"
#include "control/options.h"
#include "control/registry_api.h"
#include "control/registry_source.h"
#include "control/status_api.h"
#include "control/ui_assets.h"
#include "log/logger.h"
#include "stats/stats.h"

namespace {

using namespace sluice;
using namespace sluice::control;

int runValidate(const CliOptions& options) {
  Registry registry;
  std::string name;
  if (options.registry.starts_with("etcd://")) {
    // The same read as serve's first one, then nothing more.
    asio::io_context io;
    std::string error;
    auto source = makeRegistrySource(io, options.registry, error, {options.etcd_timeout, ""});
    std::shared_ptr<const Registry> first;
    if (!source || !source->start([](std::shared_ptr<const Registry>) {}, [](const std::string&) {}, first, error)) {
      std::cerr << options.registry << ":\n" << error << "\n";
      return 1;
    }
    registry = *first;
    name = options.registry;
  } else {
    if (!options.registry.starts_with("file:") || options.registry.size() <= 5) {
      std::cerr << "sluice-control: --registry '" << options.registry
                << "': expected file:PATH or etcd://HOST:PORT[,HOST:PORT...]/PREFIX\n";
      return 1;
    }
    name = options.registry.substr(5);
    config::ErrorList errors;
    if (!loadRegistryFile(name, registry, errors)) {
      std::cerr << name << ": " << errors.size() << (errors.size() == 1 ? " error" : " errors") << "\n"
                << errors.toString();
      return 1;
    }
  }
  std::cout << name << ": valid (" << registry.zones.size() << " zones, " << registry.services.size() << " services, "
            << registry.gateways.size() << " gateways)\n";
  return 0;
}

int serve(const CliOptions& options) {
  asio::io_context io;
  std::string error;
  auto source = makeRegistrySource(io, options.registry, error, {options.etcd_timeout, options.test_drop_watch_key});
  if (!source) {
    std::cerr << "sluice-control: " << error << "\n";
    return 1;
  }
  ControlPlane control_plane(io, options.control);
  std::shared_ptr<const Registry> first;
  const bool started = source->start([&](std::shared_ptr<const Registry> r) { control_plane.onRegistryUpdate(r); },
                                     [&](const std::string& e) { control_plane.onRegistryRejected(e); }, first, error);
  if (!started) {
    std::cerr << "sluice-control: " << source->describe() << ":\n" << error << "\n";
    return 1;
  }
  control_plane.start(first, source->describe());

  // LRS clients without send_all_clusters are asked for their snapshot's clusters.
  LoadReports loads(options.load_reporting_interval, [&control_plane](const envoy::config::core::v3::Node& node) {
    std::vector<std::string> names;
    for (const auto& [name, resource] : control_plane.snapshotFor(node)->of(XdsType::Cluster)) names.push_back(name);
    return names;
  });

  // Zone drains: restored before the ADS server opens, so no proxy ever
  // gets the registry's weight for a zone being drained.
  std::unique_ptr<DrainStore> drain_store;
  if (!options.state_file.empty()) {
    drain_store = std::make_unique<FileDrainStore>(options.state_file);
  } else if (options.registry.starts_with("file:")) {
    drain_store = std::make_unique<FileDrainStore>(options.registry.substr(5) + ".state.json");
  } else {
    // The replica's name in the leader key: its REST address and process.
    drain_store =
        makeEtcdDrainStore(io, options.registry, options.http_listen + "/" + std::to_string(::getpid()), error);
    if (!drain_store) {
      std::cerr << "sluice-control: " << error << "\n";
      return 1;
    }
  }
  DrainController drains(io, control_plane, *drain_store, &loads, options.guard);
  if (!drains.restore(error)) {
    std::cerr << "sluice-control: zone drains: " << error << "\n";
    return 1;
  }
  source->onDrainsChanged([&drains](const std::string& value) { drains.onStoreChanged(value); });

  stats::Store store(0);
  admin::AdminServer http(io, store);
  DriftDetector drift(io, control_plane, options.drift_threshold);
  drift.start();
  WatchChecker watch_check(io, *source, options.watch_check_interval);
  watch_check.start();
  NodeAdminCounters node_admin;
  addStatusHandlers(http, control_plane, source.get(), &loads, &drains, &drift, &watch_check, &node_admin);
  addRegistryApi(http, control_plane, *source);
  addDrainApi(http, drains);
  addNodeAdminProxy(http, control_plane, node_admin);
  // The UI is optional: without its files the control plane serves all the rest.
  UiAssets ui;
  const std::string ui_dir = options.ui_dir.empty() ? defaultUiDir() : options.ui_dir;
  std::string ui_error = "its directory is unknown (/proc/self/exe unreadable)";
  if (!ui_dir.empty() && ui.load(ui_dir, ui_error)) {
    SLUICE_LOG(main, info, "sluice-control: web UI from {} ({} files) at /ui/", ui_dir, ui.fileCount());
  } else {
    SLUICE_LOG(main, warn, "sluice-control: no web UI: {}; /ui/ answers 404", ui_error);
  }
  addUiHandlers(http, ui, ui_error);
  std::string host;
  uint16_t port = 0;
  splitHostPort(options.http_listen, host, port);
  if (const auto ec = http.listen({asio::ip::make_address(host), port})) {
    std::cerr << "sluice-control: --http-listen " << options.http_listen << ": " << ec.message() << "\n";
    return 1;
  }
  AdsServer ads(io, control_plane, &loads);
  int xds_port = 0;
  if (!ads.start(options.xds_listen, xds_port, error)) {
    std::cerr << "sluice-control: " << error << "\n";
    return 1;
  }
  splitHostPort(options.xds_listen, host, port);
  // Tests and scripts read the bound ports from these two lines.
  std::cout << "sluice-control: xds listening on " << host << ":" << xds_port << "\n"
            << "sluice-control: http listening on " << http.localEndpoint().address().to_string() << ":"
            << http.localEndpoint().port() << "\n"
            << std::flush;

  drains.run();

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const std::error_code& ec, int signal) {
    if (ec) return;
    SLUICE_LOG(main, info, "caught signal {}, shutting down", signal);
    http.close();
    drains.stop();
    io.stop();
  });
  io.run();
  ads.shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  sluice::common::ignoreHangupAndBrokenPipe();
  const std::vector<std::string> args(argv + 1, argv + argc);
  const CliParse parse = parseControlOptions(args);
  if (!parse.ok) {
    std::cerr << "sluice-control: " << parse.error << "\n\n" << controlUsage();
    return 1;
  }
  const CliOptions& options = parse.options;
  switch (options.command) {
    case Command::Help:
      std::cout << controlUsage();
      return 0;
    case Command::Version:
      std::cout << "sluice-control " << SLUICE_VERSION << "\n";
      return 0;
    case Command::Validate:
      return runValidate(options);
    case Command::Serve:
      break;
    default:
      return runDrainCommand(options);
  }
  const auto level = log::parseLevel(options.log_level, true);
  if (!level) {
    std::cerr << "sluice-control: -l '" << options.log_level << "': not a log level\n\n" << controlUsage();
    return 1;
  }
  log::setAllLevels(*level);
  log::Config log_config;
  std::string error;
  if (!log::init(log_config, error)) {
    std::cerr << "sluice-control: " << error << "\n";
    return 1;
  }
  const int rc = serve(options);
  log::shutdown();
  return rc;
}
