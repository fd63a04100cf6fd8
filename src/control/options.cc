#include "control/options.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>

#include "config/semantic_validator.h"

namespace sluice::control {

std::string controlUsage() {
  return "usage: sluice-control serve --registry REGISTRY --xds-listen ADDR:PORT --http-listen ADDR:PORT\n"
         "                            [--debounce 100ms] [--debounce-max 10s] [--load-reporting-interval 10s]\n"
         "                            [--drift-threshold 10s] [--watch-check-interval 30s] [--etcd-timeout 2s]\n"
         "                            [--ui-dir DIR] [-l LEVEL]\n"
         "                            [--state-file PATH] [--guard-max-load-factor 1.5]\n"
         "                            [--guard-max-error-rate 0.05] [--guard-min-requests 20]\n"
         "                            [--guard-rollback-steps 2]\n"
         "       sluice-control validate --registry REGISTRY\n"
         "       sluice-control drain ZONE --to PERCENT [--step 1] [--every 2s] [--force] [--control URL]\n"
         "       sluice-control undrain ZONE [--step 1] [--every 2s] [--control URL]\n"
         "       sluice-control abort [ZONE] [--control URL]\n"
         "       sluice-control resume ZONE [--force] [--control URL]\n"
         "       sluice-control status [--control URL]\n"
         "       sluice-control --help | --version\n"
         "\n"
         "  serve       translate the registry into xDS and serve it over ADS (state of the world)\n"
         "  validate    check a registry: exit 0 when valid, 1 with every error otherwise\n"
         "  drain       move a zone's weight to PERCENT, --step percentage points every --every, behind the guard\n"
         "  undrain     the same back to 100\n"
         "  abort       stop a zone's drain (every zone's without ZONE) at the weight it reached\n"
         "  resume      go on with a drain the guard paused or an operator aborted\n"
         "  status      every zone's weight, drain and guard state\n"
         "\n"
         "  --registry file:PATH     the registry (YAML), followed with inotify (replace it by a rename)\n"
         "  --registry etcd://HOST:PORT[,HOST:PORT...]/PREFIX\n"
         "                           the registry in etcd (a key per service, gateway and zone weight under\n"
         "                           PREFIX), followed with etcd's watch; writable (PUT/DELETE instances)\n"
         "  --xds-listen ADDR:PORT   the ADS gRPC server, and the LRS one (port 0: any)\n"
         "  --http-listen ADDR:PORT  the status API and /metrics (port 0: any)\n"
         "  --debounce DURATION      wait this long after a registry change for more (default 100ms)\n"
         "  --debounce-max DURATION  but at most this long after the first (default 10s)\n"
         "  --load-reporting-interval DURATION\n"
         "                           how often LRS clients are asked to report (default 10s; at least 1ms)\n"
         "  --drift-threshold DURATION\n"
         "                           a proxy serving other endpoints than its snapshot's this long is\n"
         "                           reported behind (default 10s; at least 1ms)\n"
         "  --watch-check-interval DURATION\n"
         "                           how often the store is read whole and compared with what the watch\n"
         "                           delivered (default 30s; 0: never)\n"
         "  --etcd-timeout DURATION  an etcd call's timeout, and of the probe of the watched member: a member\n"
         "                           that does not answer it is left (default 2s; at least 1ms)\n"
         "  --test-drop-watch-key KEY\n"
         "                           test hook: drop etcd watch events for KEY (a watch missing a change)\n"
         "  --ui-dir DIR             the web UI's files, served at /ui/ (default: "
         "<bindir>/../share/sluice-control/ui)\n"
         "  -l, --log-level LEVEL    trace, debug, info, warning, error, critical, off (default info)\n"
         "  --state-file PATH        file registry: where zone drains are kept (default <registry file>.state.json)\n"
         "  --guard-max-load-factor X\n"
         "                           refuse a drain leaving a zone more than X times its share of healthy\n"
         "                           instance weight (default 1.5: one of three equal zones may go)\n"
         "  --guard-max-error-rate X pause a drain when the remaining zones' reported error rate exceeds X\n"
         "                           (default 0.05) ...\n"
         "  --guard-min-requests N   ... over at least N reported requests (default 20)\n"
         "  --guard-rollback-steps N steps undone when the guard pauses a drain (default 2)\n"
         "  --control URL            drain, undrain, abort, resume, status: sluice-control's --http-listen\n"
         "                           (default http://127.0.0.1:18001)\n";
}

bool parseDuration(const std::string& text, std::chrono::milliseconds& out) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [rest, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || rest == text.data() || value > 86'400'000) return false;
  const std::string unit(rest, end);
  if (unit == "ms") {
    out = std::chrono::milliseconds(value);
  } else if (unit == "s") {
    out = std::chrono::seconds(value);
  } else if (unit == "m") {
    out = std::chrono::minutes(value);
  } else if (unit.empty() && value == 0) {
    out = std::chrono::milliseconds(0);
  } else {
    return false;
  }
  return true;
}

bool splitHostPort(const std::string& text, std::string& host, uint16_t& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!config::isIpLiteral(host)) return false;
  const std::string digits = text.substr(colon + 1);
  unsigned value = 0;
  const auto [rest, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || digits.empty() || rest != digits.data() + digits.size() || value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

CliParse parseControlOptions(const std::vector<std::string>& args) {
  CliParse result;
  CliOptions& o = result.options;
  const auto fail = [&result](std::string error) {
    result.ok = false;
    result.error = std::move(error);
    return result;
  };
  if (args.empty()) return fail("a command is required (serve or validate)");
  bool etcd_timeout_given = false;
  size_t i = 0;
  if (args[0] == "--help" || args[0] == "-h") {
    o.command = Command::Help;
    result.ok = true;
    return result;
  }
  if (args[0] == "--version") {
    o.command = Command::Version;
    result.ok = true;
    return result;
  }
  static const std::map<std::string, Command> kCommands{{"serve", Command::Serve},  {"validate", Command::Validate},
                                                        {"drain", Command::Drain},  {"undrain", Command::Undrain},
                                                        {"abort", Command::Abort},  {"resume", Command::Resume},
                                                        {"status", Command::Status}};
  const auto command = kCommands.find(args[0]);
  if (command == kCommands.end()) {
    return fail("unknown command '" + args[0] +
                "' (expected serve, validate, drain, undrain, abort, resume or status)");
  }
  o.command = command->second;
  const bool remote = o.command != Command::Serve && o.command != Command::Validate;
  i = 1;
  if (remote && o.command != Command::Status && i < args.size() && !args[i].starts_with("-")) o.zone = args[i++];
  if (remote && o.command != Command::Status && o.command != Command::Abort && o.zone.empty()) {
    return fail(args[0] + " needs a ZONE");
  }
  for (; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      o.command = Command::Help;
      result.ok = true;
      return result;
    }
    if (flag == "--force") {
      if (o.command != Command::Drain && o.command != Command::Resume)
        return fail("--force is a flag of drain and resume");
      o.force = true;
      continue;
    }
    if (remote) {
      if (i + 1 >= args.size())
        return fail(flag.starts_with("-") ? flag + " needs a value" : "unexpected '" + flag + "'");
      const std::string& value = args[++i];
      const bool stepping = o.command == Command::Drain || o.command == Command::Undrain;
      uint32_t number = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
      const bool integer = ec == std::errc() && !value.empty() && end == value.data() + value.size();
      std::chrono::milliseconds d{};
      if (flag == "--control") {
        o.control_url = value;
      } else if (flag == "--to" && o.command == Command::Drain) {
        if (!integer || number > 100) return fail("--to '" + value + "': expected a percentage from 0 to 100");
        o.to = number;
        o.to_set = true;
      } else if (flag == "--step" && stepping) {
        if (!integer || number == 0 || number > 100) return fail("--step '" + value + "': expected 1 to 100");
        o.step = number;
      } else if (flag == "--every" && stepping) {
        if (!parseDuration(value, d) || d.count() == 0) {
          return fail("--every '" + value + "': expected a positive duration such as 2s or 500ms");
        }
        o.every = value;
      } else {
        return fail("unknown flag '" + flag + "' for " + args[0]);
      }
      continue;
    }
    if (i + 1 >= args.size())
      return fail(flag.starts_with("-") ? flag + " needs a value" : "unexpected '" + flag + "'");
    const std::string& value = args[++i];
    const bool serve_only = flag == "--xds-listen" || flag == "--http-listen" || flag == "--debounce" ||
                            flag == "--debounce-max" || flag == "--load-reporting-interval" || flag == "--state-file" ||
                            flag.starts_with("--guard-") || flag == "--drift-threshold" ||
                            flag == "--watch-check-interval" || flag == "--test-drop-watch-key" || flag == "--ui-dir";
    if (serve_only && o.command != Command::Serve) return fail(flag + " is a flag of serve, not of validate");
    if (flag == "--registry") {
      o.registry = value;
    } else if (flag == "--xds-listen" || flag == "--http-listen") {
      std::string host;
      uint16_t port = 0;
      if (!splitHostPort(value, host, port)) return fail(flag + " '" + value + "': expected IP:PORT");
      (flag == "--xds-listen" ? o.xds_listen : o.http_listen) = value;
    } else if (flag == "--debounce" || flag == "--debounce-max") {
      std::chrono::milliseconds d{};
      if (!parseDuration(value, d)) return fail(flag + " '" + value + "': expected a duration such as 100ms or 2s");
      (flag == "--debounce" ? o.control.debounce : o.control.debounce_max) = d;
    } else if (flag == "--load-reporting-interval") {
      std::chrono::milliseconds d{};
      if (!parseDuration(value, d) || d.count() == 0) {
        return fail(flag + " '" + value + "': expected a positive duration such as 10s or 500ms");
      }
      o.load_reporting_interval = d;
    } else if (flag == "--drift-threshold" || flag == "--etcd-timeout") {
      std::chrono::milliseconds d{};
      if (!parseDuration(value, d) || d.count() == 0) {
        return fail(flag + " '" + value + "': expected a positive duration such as 10s or 500ms");
      }
      (flag == "--drift-threshold" ? o.drift_threshold : o.etcd_timeout) = d;
      etcd_timeout_given = etcd_timeout_given || flag == "--etcd-timeout";
    } else if (flag == "--watch-check-interval") {
      std::chrono::milliseconds d{};
      if (!parseDuration(value, d)) return fail(flag + " '" + value + "': expected a duration such as 30s or 0");
      o.watch_check_interval = d;
    } else if (flag == "--test-drop-watch-key") {
      o.test_drop_watch_key = value;
    } else if (flag == "--ui-dir") {
      if (value.empty()) return fail("--ui-dir needs a directory");
      o.ui_dir = value;
    } else if (flag == "-l" || flag == "--log-level") {
      o.log_level = value;
    } else if (flag == "--state-file") {
      o.state_file = value;
    } else if (flag == "--guard-max-load-factor" || flag == "--guard-max-error-rate") {
      char* end = nullptr;
      const double x = std::strtod(value.c_str(), &end);
      const bool load = flag == "--guard-max-load-factor";
      if (value.empty() || end != value.c_str() + value.size() || !(x > 0) || (!load && x > 1) || (load && x > 1000)) {
        return fail(flag + " '" + value + "': expected a number " + (load ? "above 0" : "from 0 to 1, above 0"));
      }
      (load ? o.guard.max_load_factor : o.guard.max_error_rate) = x;
    } else if (flag == "--guard-min-requests" || flag == "--guard-rollback-steps") {
      uint64_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || value.empty() || end != value.data() + value.size() || n > 1'000'000'000) {
        return fail(flag + " '" + value + "': expected a whole number");
      }
      if (flag == "--guard-min-requests") {
        o.guard.min_requests = n;
      } else {
        o.guard.rollback_steps = static_cast<uint32_t>(std::min<uint64_t>(n, 100));
      }
    } else {
      return fail("unknown flag '" + flag + "'");
    }
  }
  if (remote) {
    if (o.command == Command::Drain && !o.to_set) return fail("drain needs --to PERCENT");
    result.ok = true;
    return result;
  }
  if (o.registry.empty()) return fail("--registry is required");
  const bool etcd = o.registry.starts_with("etcd://");
  if (!etcd && !o.test_drop_watch_key.empty()) return fail("--test-drop-watch-key needs an etcd:// registry");
  if (!etcd && etcd_timeout_given) return fail("--etcd-timeout needs an etcd:// registry");
  if (o.command == Command::Serve) {
    if (o.xds_listen.empty()) return fail("--xds-listen is required");
    if (o.http_listen.empty()) return fail("--http-listen is required");
    if (o.control.debounce_max < o.control.debounce) return fail("--debounce-max must not be less than --debounce");
  }
  result.ok = true;
  return result;
}

}  // namespace sluice::control
