// sluice-control's command line. Pure parsing, no I/O: parseControlOptions()
// says what to run or what is wrong with the arguments.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "control/control_plane.h"
#include "control/zone_drain.h"

namespace sluice::control {

// Drain..Status talk to a running sluice-control's REST API (--control).
enum class Command { Serve, Validate, Help, Version, Drain, Undrain, Abort, Resume, Status };

struct CliOptions {
  Command command = Command::Help;
  std::string registry;     // file:PATH or etcd://HOST:PORT[,HOST:PORT...]/PREFIX
  std::string xds_listen;   // ADDR:PORT
  std::string http_listen;  // ADDR:PORT
  ControlOptions control;
  // The load_reporting_interval LRS clients are given.
  std::chrono::milliseconds load_reporting_interval{10000};
  // A proxy whose ACKed endpoints differ from its snapshot's this long is
  // reported as behind (drift.h).
  std::chrono::milliseconds drift_threshold{10000};
  // How often the store is read whole and compared with the watched state (drift.h).
  std::chrono::milliseconds watch_check_interval{30000};
  // etcd: a call's timeout, and the probe of the watched member.
  std::chrono::milliseconds etcd_timeout{2000};
  // Test hook: etcd watch events for this key are dropped (a watch that
  // misses a change, for the watch check's test). Empty: none.
  std::string test_drop_watch_key;
  std::string log_level = "info";
  // The web UI's files; "" means defaultUiDir() (beside the binary's prefix).
  std::string ui_dir;
  // serve: where zone drains are kept with a file registry ("" is
  // `<registry file>.state.json`), and the drain guard's rules.
  std::string state_file;
  GuardOptions guard;
  // drain, undrain, abort, resume, status.
  std::string control_url = "http://127.0.0.1:18001";
  std::string zone;  // abort: "" is every zone with a drain in progress
  uint32_t to = 0;
  bool to_set = false;
  uint32_t step = 1;
  std::string every = "2s";
  bool force = false;
};

struct CliParse {
  bool ok = false;
  CliOptions options;
  std::string error;  // what is wrong, when !ok
};

CliParse parseControlOptions(const std::vector<std::string>& args);
std::string controlUsage();

// "100ms", "2s", "1m", "0": a duration. False when malformed.
bool parseDuration(const std::string& text, std::chrono::milliseconds& out);

// "127.0.0.1:9000" or "[::1]:9000": the address and the port. False when malformed.
bool splitHostPort(const std::string& text, std::string& host, uint16_t& port);

}  // namespace sluice::control
