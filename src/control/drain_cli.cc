#include "control/drain_cli.h"

#include <iostream>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <nlohmann/json.hpp>

#include "control/http_client.h"

namespace sluice::control {

using nlohmann::json;

namespace {

std::string text(const json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>().empty() ? "-" : value.get<std::string>();
  return value.dump();
}

void printZones(const json& zones) {
  std::cout << fmt::format("{:<16} {:>6} {:>6} {:<9} {:>4} {:<8} {:<24} {}\n", "ZONE", "WEIGHT", "TARGET", "STATE",
                           "STEP", "EVERY", "NEXT STEP", "GUARD");
  for (const auto& z : zones.value("zones", json::array())) {
    std::string guard = "-";
    if (z.contains("guard") && z["guard"].is_object()) {
      guard = text(z["guard"].value("state", json()));
      const std::string reason = z["guard"].value("reason", std::string());
      if (!reason.empty()) guard += ": " + reason;
    }
    std::cout << fmt::format("{:<16} {:>6} {:>6} {:<9} {:>4} {:<8} {:<24} {}\n", text(z.value("zone", json())),
                             text(z.value("weight", json())), text(z.value("target", json())),
                             text(z.value("state", json())), text(z.value("step", json())),
                             text(z.value("every", json())), text(z.value("next_step_at", json())), guard);
  }
}

struct Call {
  std::string error;  // transport failure
  int status = 0;
  json body;
};

Call call(asio::io_context& io, const network::Tcp::endpoint& endpoint, std::string method, std::string target,
          std::string body) {
  Call out;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        HttpCall c;
        c.endpoint = endpoint;
        c.method = std::move(method);
        c.target = std::move(target);
        c.body = std::move(body);
        const HttpReply reply = co_await httpCall(std::move(c));
        out.error = reply.error;
        out.status = reply.status;
        out.body = json::parse(reply.body, nullptr, false);
      },
      [](std::exception_ptr) {});
  io.run();
  io.restart();
  return out;
}

std::string zonePath(const std::string& base, const std::string& zone, const char* action) {
  return base + "/v1/zones/" + percentEncode(zone) + "/" + action;
}

}  // namespace

int runDrainCommand(const CliOptions& o) {
  network::Tcp::endpoint endpoint;
  std::string base;
  if (!parseHttpUrl(o.control_url, endpoint, base)) {
    std::cerr << "sluice-control: --control '" << o.control_url << "': expected http://IP:PORT\n";
    return 1;
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  asio::io_context io;
  const auto failed = [&o](const Call& c) {
    if (!c.error.empty()) {
      std::cerr << "sluice-control: " << o.control_url << ": " << c.error << "\n";
      return true;
    }
    if (c.status != 200) {
      const std::string why =
          c.body.is_object() ? c.body.value("error", c.body.dump()) : "HTTP " + std::to_string(c.status);
      std::cerr << "sluice-control: " << why << "\n";
      return true;
    }
    return false;
  };
  const auto printDrain = [](const json& d) {
    std::cout << fmt::format("zone {}: {} at weight {}, target {}, step {} every {}{}\n", text(d.value("zone", json())),
                             text(d.value("state", json())), text(d.value("weight", json())),
                             text(d.value("target", json())), text(d.value("step", json())),
                             text(d.value("every", json())),
                             d.value("forced", false) ? " (forced over the guard)" : "");
  };
  switch (o.command) {
    case Command::Status: {
      const Call c = call(io, endpoint, "GET", base + "/v1/zones", "");
      if (failed(c)) return 1;
      printZones(c.body);
      return 0;
    }
    case Command::Drain:
    case Command::Undrain: {
      json body{{"step", o.step}, {"every", o.every}};
      if (o.command == Command::Drain) {
        body["to"] = o.to;
        if (o.force) body["force"] = true;
      }
      const Call c = call(io, endpoint, "POST",
                          zonePath(base, o.zone, o.command == Command::Drain ? "drain" : "undrain"), body.dump());
      if (failed(c)) return 1;
      printDrain(c.body);
      return 0;
    }
    case Command::Resume: {
      const Call c = call(io, endpoint, "POST", zonePath(base, o.zone, "resume"), o.force ? R"({"force":true})" : "");
      if (failed(c)) return 1;
      printDrain(c.body);
      return 0;
    }
    case Command::Abort: {
      std::vector<std::string> zones;
      if (!o.zone.empty()) {
        zones.push_back(o.zone);
      } else {
        const Call c = call(io, endpoint, "GET", base + "/v1/zones", "");
        if (failed(c)) return 1;
        for (const auto& z : c.body.value("zones", json::array())) {
          const std::string state = z.value("state", std::string());
          if (state == "draining" || state == "paused") zones.push_back(z.value("zone", std::string()));
        }
        if (zones.empty()) {
          std::cout << "no drain in progress\n";
          return 0;
        }
      }
      int rc = 0;
      for (const auto& zone : zones) {
        const Call c = call(io, endpoint, "POST", zonePath(base, zone, "abort"), "");
        if (failed(c)) {
          rc = 1;
          continue;
        }
        printDrain(c.body);
      }
      return rc;
    }
    default:
      return 1;
  }
}

}  // namespace sluice::control
