#include "server/server.h"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "network/listen_socket.h"
#include "server/config_compiler.h"

namespace sluice::server {

Server::Server(Options options, envoy::config::bootstrap::v3::Bootstrap bootstrap)
    : options_(std::move(options)), bootstrap_(std::move(bootstrap)), sockets_(options_.concurrency) {}

Server::~Server() {
  for (auto& w : workers_) w->stop();
}

int Server::run() {
  std::string error;
  if (!start(error)) {
    std::cerr << "sluice: " << error << "\n";
    for (auto& w : workers_) w->stop();
    return 1;
  }
  signals_.async_wait([this](const std::error_code& ec, int) {
    if (!ec) shutdown();
  });
  main_.run();
  for (auto& w : workers_) w->stop();
  return 0;
}

bool Server::start(std::string& error) {
  config::ErrorList errors;
  auto config = compileStatic(bootstrap_, errors);
  if (!errors.empty()) {
    error = "cannot compile the configuration:\n" + errors.toString();
    return false;
  }
  config->version = 1;
  config_ = config;

  std::vector<std::vector<proxy::ListenerSocket>> per_worker;
  if (!sockets_.update(*config_, per_worker, error)) return false;

  if (bootstrap_.has_admin() && bootstrap_.admin().has_address()) {
    const auto& sa = bootstrap_.admin().address().socket_address();
    network::Tcp::endpoint endpoint;
    network::makeEndpoint(sa.address(), static_cast<uint16_t>(sa.port_value()), endpoint);
    admin_ = std::make_unique<admin::AdminServer>(main_);
    installAdminHandlers();
    if (auto ec = admin_->listen(endpoint)) {
      error = "admin cannot listen on " + sa.address() + ":" + std::to_string(sa.port_value()) + ": " + ec.message();
      return false;
    }
    if (!options_.admin_address_path.empty()) {
      const auto local = admin_->localEndpoint();
      std::ofstream(options_.admin_address_path) << local.address().to_string() << ":" << local.port() << "\n";
    }
  }

  for (uint32_t i = 0; i < options_.concurrency; ++i) {
    workers_.push_back(std::make_unique<proxy::Worker>(i));
    workers_.back()->applyConfig(config_, std::move(per_worker[i]));
    workers_.back()->start();
  }
  for (const auto& [name, bound] : sockets_.bound()) {
    std::cerr << "sluice: listener '" << name << "' on " << bound.local.address().to_string() << ":"
              << bound.local.port() << "\n";
  }
  std::cerr << "sluice: started with " << workers_.size() << " workers\n";
  return true;
}

void Server::installAdminHandlers() {
  admin_->add("/ready", "print server state, return 200 if LIVE, otherwise return 503", false,
              [this](const admin::AdminRequest&) {
                return shutting_down_ ? admin::AdminResponse{503, "text/plain; charset=UTF-8", "DRAINING\n"}
                                      : admin::AdminResponse{200, "text/plain; charset=UTF-8", "LIVE\n"};
              });
  admin_->add("/listeners", "print listener info", false, [this](const admin::AdminRequest& request) {
    admin::AdminResponse r;
    if (request.param("format") == "json") {
      nlohmann::json statuses = nlohmann::json::array();
      for (const auto& [name, bound] : sockets_.bound()) {
        statuses.push_back(
            {{"name", name},
             {"local_address",
              {{"socket_address",
                {{"address", bound.local.address().to_string()}, {"port_value", bound.local.port()}}}}}});
      }
      r.content_type = "application/json";
      r.body = nlohmann::json{{"listener_statuses", statuses}}.dump(2) + "\n";
    } else {
      for (const auto& [name, bound] : sockets_.bound()) {
        r.body += name + "::" + bound.local.address().to_string() + ":" + std::to_string(bound.local.port()) + "\n";
      }
    }
    return r;
  });
  admin_->add("/quitquitquit", "exit the server", true, [this](const admin::AdminRequest&) {
    asio::post(main_, [this] { shutdown(); });
    return admin::AdminResponse{200, "text/plain; charset=UTF-8", "OK\n"};
  });
}

void Server::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  std::cerr << "sluice: shutting down, draining for up to " << options_.drain_time_s << "s\n";
  drain_timer_ = std::make_unique<asio::steady_timer>(main_);
  drain_timer_->expires_after(std::chrono::seconds(options_.drain_time_s));
  drain_timer_->async_wait([this](const std::error_code& ec) {
    if (!ec) finish();
  });
  for (auto& w : workers_) {
    w->drain([this] {
      asio::post(main_, [this] {
        if (++workers_drained_ == workers_.size()) finish();
      });
    });
  }
}

void Server::finish() {
  if (drain_timer_) drain_timer_->cancel();
  signals_.cancel();
  if (admin_) admin_->close();
  for (auto& w : workers_) w->stop();
  main_.stop();
}

}  // namespace sluice::server
