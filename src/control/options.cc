#include "control/options.h"

#include <charconv>

#include "config/semantic_validator.h"

namespace sluice::control {

std::string controlUsage() {
  return "usage: sluice-control serve --registry REGISTRY --xds-listen ADDR:PORT --http-listen ADDR:PORT\n"
         "                            [--debounce 100ms] [--debounce-max 10s] [--load-reporting-interval 10s]\n"
         "                            [--ui-dir DIR] [-l LEVEL]\n"
         "       sluice-control validate --registry REGISTRY\n"
         "       sluice-control --help | --version\n"
         "\n"
         "  serve       translate the registry into xDS and serve it over ADS (state of the world)\n"
         "  validate    check a registry: exit 0 when valid, 1 with every error otherwise\n"
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
         "  --ui-dir DIR             the web UI's files, served at /ui/ (default: "
         "<bindir>/../share/sluice-control/ui)\n"
         "  -l, --log-level LEVEL    trace, debug, info, warning, error, critical, off (default info)\n";
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
  if (args[0] == "serve") {
    o.command = Command::Serve;
  } else if (args[0] == "validate") {
    o.command = Command::Validate;
  } else {
    return fail("unknown command '" + args[0] + "' (expected serve or validate)");
  }
  for (i = 1; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      o.command = Command::Help;
      result.ok = true;
      return result;
    }
    if (i + 1 >= args.size())
      return fail(flag.starts_with("-") ? flag + " needs a value" : "unexpected '" + flag + "'");
    const std::string& value = args[++i];
    const bool serve_only = flag == "--xds-listen" || flag == "--http-listen" || flag == "--debounce" ||
                            flag == "--debounce-max" || flag == "--load-reporting-interval" || flag == "--ui-dir";
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
    } else if (flag == "--ui-dir") {
      if (value.empty()) return fail("--ui-dir needs a directory");
      o.ui_dir = value;
    } else if (flag == "-l" || flag == "--log-level") {
      o.log_level = value;
    } else {
      return fail("unknown flag '" + flag + "'");
    }
  }
  if (o.registry.empty()) return fail("--registry is required");
  if (o.command == Command::Serve) {
    if (o.xds_listen.empty()) return fail("--xds-listen is required");
    if (o.http_listen.empty()) return fail("--http-listen is required");
    if (o.control.debounce_max < o.control.debounce) return fail("--debounce-max must not be less than --debounce");
  }
  result.ok = true;
  return result;
}

}  // namespace sluice::control
