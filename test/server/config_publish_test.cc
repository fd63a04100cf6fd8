// Config publishing across threads, as Server::apply does it: the main thread
// compiles a ProxyConfig, the cluster manager's delta and an endpoint update,
// and posts them to every worker (and runtime snapshots, as RuntimeLoader
// does) while the workers serve requests. Run under
// ThreadSanitizer too (scripts/test.sh, build/tsan), where any data race
// between the publisher and the workers fails the test.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/bootstrap_loader.h"
#include "network/asio_util.h"
#include "proxy/worker.h"
#include "server/cluster_manager.h"
#include "server/config_compiler.h"
#include "server/listener_sockets.h"
#include "support/config_yaml.h"

namespace sluice::server {
namespace {

using asio::ip::tcp;
using network::kNoThrow;

// An HTTP/1.1 upstream on its own thread: answers every request (heads only,
// no bodies) with 200 and its name, keeping connections open.
class Backend {
 public:
  explicit Backend(std::string name) : name_(std::move(name)) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(io_, acceptLoop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Backend() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> serve(tcp::socket socket) {
    const std::string response =
        "HTTP/1.1 200 OK\r\ncontent-length: " + std::to_string(name_.size()) + "\r\n\r\n" + name_;
    std::string buffer;
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n", kNoThrow);
      if (ec) co_return;
      buffer.erase(0, n);
      auto [wec, written] = co_await asio::async_write(socket, asio::buffer(response), kNoThrow);
      if (wec) co_return;
    }
  }

  std::string name_;
  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
};

// The bootstrap for one published version: the cluster's endpoints and load
// balancing change from version to version, and so does the route table (a
// header added per version), so every part of Worker::install runs.
std::string bootstrapYaml(int version, uint16_t backend_a, uint16_t backend_b) {
  const bool both = version % 3 != 0;
  const char* policy = version % 4 < 2 ? "ROUND_ROBIN" : "LEAST_REQUEST";
  std::string endpoints = "        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: " +
                          std::to_string(backend_a) + " } } }\n";
  if (both) {
    endpoints += "        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: " +
                 std::to_string(backend_b) + " } } }\n";
  }
  return "static_resources:\n  listeners:\n" +
         test::listenerYaml("ingress", R"(            - name: all
              domains: ["*"]
              request_headers_to_add:
              - header: { key: x-config-version, value: ")" +
                                           std::to_string(version) + R"(" }
              routes:
              - match: { prefix: "/", runtime_fraction: { default_value: { numerator: 100 }, runtime_key: routes.app } }
                route: { cluster: app }
)") + R"(
  clusters:
  - name: app
    type: STATIC
    connect_timeout: 1s
    lb_policy: )" +
         policy + R"(
    load_assignment:
      cluster_name: app
      endpoints:
      - lb_endpoints:
)" + endpoints;
}

struct Compiled {
  proxy::ProxyConfigPtr listeners;
  std::shared_ptr<const proxy::ClusterDelta> clusters;
};

Compiled compile(const std::string& yaml, uint64_t version, proxy::StatsRegistry& stats, ClusterManager& manager) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  config::ErrorList errors;
  EXPECT_TRUE(config::loadBootstrap({"", yaml}, bootstrap, errors)) << errors.toString();
  auto compiled = compileStatic(bootstrap, stats, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  compiled->version = version;
  std::vector<const envoy::config::cluster::v3::Cluster*> clusters;
  for (const auto& c : bootstrap.static_resources().clusters()) clusters.push_back(&c);
  return {compiled, std::make_shared<const proxy::ClusterDelta>(manager.setClusters(clusters))};
}

// Counts answered requests so the publisher can wait for traffic between
// publications instead of sleeping.
class Progress {
 public:
  void add() {
    {
      std::lock_guard lock(mutex_);
      ++done_;
    }
    changed_.notify_all();
  }
  void fail() {
    failed_ = true;
    changed_.notify_all();
  }
  // Waits until `count` requests were answered (or a client failed).
  void waitFor(uint64_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return done_ >= count || failed_; });
  }
  bool failed() const { return failed_; }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t done_ = 0;
  std::atomic<bool> failed_{false};
};

// A client on its own thread: a few keep-alive requests per connection (fewer
// when a response says `connection: close`), then a new connection (which
// picks up the latest listener config).
void runClient(uint16_t port, const std::atomic<bool>& stop, Progress& progress, std::string& error) {
  asio::io_context io;
  while (!stop) {
    tcp::socket socket(io);
    std::error_code ec;
    socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) {
      error = "connect: " + ec.message();
      progress.fail();
      return;
    }
    std::string buffer;
    for (int i = 0; i < 4 && !stop; ++i) {
      const std::string request = "GET /r" + std::to_string(i) + " HTTP/1.1\r\nhost: test\r\n\r\n";
      asio::write(socket, asio::buffer(request), ec);
      const size_t head = ec ? 0 : asio::read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n", ec);
      if (ec) {
        error = "request: " + ec.message();
        progress.fail();
        return;
      }
      const std::string status_line = buffer.substr(0, buffer.find("\r\n"));
      const size_t at = buffer.find("content-length: ");
      if (status_line != "HTTP/1.1 200 OK" || at == std::string::npos || at > head) {
        error = "unexpected response: " + buffer.substr(0, head);
        progress.fail();
        return;
      }
      const size_t length = std::stoul(buffer.substr(at + 16));
      if (buffer.size() < head + length) {
        asio::read(socket, asio::dynamic_buffer(buffer), asio::transfer_exactly(head + length - buffer.size()), ec);
      }
      const std::string body = buffer.substr(head, length);
      if (ec || (body != "a" && body != "b")) {
        error = "unexpected body '" + body + "' " + ec.message();
        progress.fail();
        return;
      }
      // A changed listener drains its old connections: the response says so.
      const bool closing = buffer.substr(0, head).find("connection: close") != std::string::npos;
      buffer.erase(0, head + length);
      progress.add();
      if (closing) break;
    }
  }
}

TEST(ConfigPublish, WorkersServeWhileNewConfigsArePublished) {
  Backend a("a");
  Backend b("b");
  constexpr uint32_t kWorkers = 2;
  stats::Store store(kWorkers);
  proxy::StatsRegistry registry(store);
  ClusterManager manager(registry, [](const std::string&, DnsAnswer) { return std::vector<std::string>{}; });
  std::vector<std::unique_ptr<proxy::Worker>> workers;
  for (uint32_t i = 0; i < kWorkers; ++i) {
    workers.push_back(std::make_unique<proxy::Worker>(i, registry.downstreamConnections()));
    workers.back()->start();
  }
  ListenerSockets sockets(kWorkers);
  auto publish = [&](int version) {
    auto [config, clusters] = compile(bootstrapYaml(version, a.port(), b.port()), version, registry, manager);
    std::vector<std::vector<proxy::ListenerSocket>> per_worker;
    std::string error;
    ASSERT_TRUE(sockets.update(*config, per_worker, error)) << error;
    for (uint32_t i = 0; i < kWorkers; ++i) {
      workers[i]->applyClusters(clusters);
      workers[i]->applyConfig(config, std::move(per_worker[i]));
    }
    // A runtime change between configs, as RuntimeLoader publishes it: the
    // route's runtime_fraction and the connection limits read it.
    auto snapshot = std::make_shared<const runtime::Snapshot>(std::map<std::string, std::string, std::less<>>{
        {"routes.app", "100"}, {"overload.global_downstream_max_connections", std::to_string(1000 + version)}});
    for (auto& w : workers) w->applyRuntime(snapshot);
  };
  publish(1);
  const uint16_t port = sockets.bound().at("ingress").local.port();

  std::atomic<bool> stop{false};
  Progress progress;
  constexpr int kClients = 2;
  std::vector<std::string> errors(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] { runClient(port, stop, progress, errors[i]); });
  }
  // Each new version goes out while requests are in flight; the next one
  // waits for a few more answers, so every version serves traffic.
  constexpr int kVersions = 40;
  for (int version = 2; version <= kVersions && !progress.failed(); ++version) {
    publish(version);
    progress.waitFor(static_cast<uint64_t>(version) * 6);
  }
  stop = true;
  for (auto& c : clients) c.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(errors[i], "") << "client " << i;

  // Drain as the server does at shutdown, then stop the event loops.
  std::atomic<uint32_t> drained{0};
  std::mutex mutex;
  std::condition_variable all_drained;
  for (auto& w : workers) {
    w->drain([&] {
      {
        std::lock_guard lock(mutex);
        ++drained;
      }
      all_drained.notify_all();
    });
  }
  {
    std::unique_lock lock(mutex);
    all_drained.wait(lock, [&] { return drained == kWorkers; });
  }
  for (auto& w : workers) w->stop();
}

}  // namespace
}  // namespace sluice::server
