// Two servers in one process share nothing: each has its own stat store and
// registries (ServerContext), so one's traffic never shows in the other's
// stats. Before the context, every stat lived in one process-wide store.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "config/bootstrap_loader.h"
#include "server/server.h"
#include "support/config_yaml.h"
#include "support/process.h"

namespace sluice::server {
namespace {

namespace fs = std::filesystem;

const std::string kBootstrap =
    "admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }\nstatic_resources:\n  listeners:\n" +
    test::listenerYaml("ingress",
                       "            - name: all\n              domains: [\"*\"]\n              routes:\n"
                       "              - match: { prefix: \"/\" }\n"
                       "                direct_response: { status: 200, body: { inline_string: \"hello\" } }\n");

// One Server on a thread of its own, as sluice_main runs it.
class Running {
 public:
  explicit Running(const fs::path& dir, const std::string& name) : address_file_(dir / (name + ".admin")) {
    envoy::config::bootstrap::v3::Bootstrap bootstrap;
    config::ErrorList errors;
    EXPECT_TRUE(config::loadBootstrap({"", kBootstrap}, bootstrap, errors)) << errors.toString();
    Options options;
    options.concurrency = 1;
    options.drain_time_s = 1;
    options.admin_address_path = address_file_.string();
    server_ = std::make_unique<Server>(options, bootstrap);
    thread_ = std::thread([this] { exit_code_ = server_->run(); });
    // The admin address file is written once admin listens; listeners bind before "started".
    while (admin_port_ == 0 && !done()) {
      std::ifstream in(address_file_);
      std::string line;
      if (std::getline(in, line) && line.find(':') != std::string::npos) {
        admin_port_ = std::atoi(line.substr(line.find(':') + 1).c_str());
      } else {
        std::this_thread::yield();
      }
    }
  }
  ~Running() {
    if (thread_.joinable()) {
      test::httpPost(admin_port_, "/quitquitquit");
      thread_.join();
    }
  }
  bool done() const { return exit_code_ >= 0; }
  int adminPort() const { return admin_port_; }
  // The listener's port, from admin /listeners (retried until it is bound).
  int listenerPort() {
    for (;;) {
      const std::string r = test::httpGet(admin_port_, "/listeners?format=json");
      const auto body = r.find("\r\n\r\n");
      if (body != std::string::npos) {
        const auto json = nlohmann::json::parse(r.substr(body + 4), nullptr, false);
        if (json.is_object() && !json["listener_statuses"].empty()) {
          return json["listener_statuses"][0]["local_address"]["socket_address"]["port_value"].get<int>();
        }
      }
      std::this_thread::yield();
    }
  }
  uint64_t stat(const std::string& name) {
    const std::string r = test::httpGet(admin_port_, "/stats?format=json");
    const auto json = nlohmann::json::parse(r.substr(r.find("\r\n\r\n") + 4));
    for (const auto& s : json["stats"]) {
      if (s.contains("name") && s["name"] == name) return s["value"].get<uint64_t>();
    }
    return 0;
  }

 private:
  fs::path address_file_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::atomic<int> exit_code_{-1};
  int admin_port_ = 0;
};

TEST(TwoServers, EachCountsOnlyItsOwnTraffic) {
  std::string pattern = (fs::temp_directory_path() / "sluice-two-XXXXXX").string();
  const fs::path dir = ::mkdtemp(pattern.data());
  {
    Running one(dir, "one");
    Running two(dir, "two");
    ASSERT_NE(one.adminPort(), two.adminPort());
    for (int i = 0; i < 2; ++i) EXPECT_NE(test::httpGet(one.listenerPort(), "/").find("hello"), std::string::npos);
    for (int i = 0; i < 3; ++i) EXPECT_NE(test::httpGet(two.listenerPort(), "/").find("hello"), std::string::npos);
    EXPECT_EQ(one.stat("http.ingress.downstream_rq_total"), 2u);
    EXPECT_EQ(two.stat("http.ingress.downstream_rq_total"), 3u);
    EXPECT_EQ(one.stat("listener_manager.listener_added"), 1u);
    EXPECT_EQ(two.stat("listener_manager.listener_added"), 1u);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sluice::server
