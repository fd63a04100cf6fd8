// Server: the running data plane. Owns the main thread's io_context (signals,
// admin), the workers, and the listening sockets; compiles the bootstrap into
// a ProxyConfig and hands it to the workers. Main thread only.
#pragma once

#include <memory>
#include <vector>

#include "admin/admin_server.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "proxy/worker.h"
#include "server/listener_sockets.h"
#include "server/options.h"

namespace sluice::server {

class Server {
 public:
  Server(Options options, envoy::config::bootstrap::v3::Bootstrap bootstrap);
  ~Server();

  // Starts everything and blocks until shutdown. Returns the exit code.
  int run();

 private:
  bool start(std::string& error);
  void installAdminHandlers();
  // Stop accepting, let in-flight requests finish for up to --drain-time-s, exit.
  void shutdown();
  void finish();

  Options options_;
  envoy::config::bootstrap::v3::Bootstrap bootstrap_;
  asio::io_context main_{1};
  asio::signal_set signals_{main_, SIGTERM, SIGINT};
  std::vector<std::unique_ptr<proxy::Worker>> workers_;
  ListenerSockets sockets_;
  proxy::ProxyConfigPtr config_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::unique_ptr<asio::steady_timer> drain_timer_;
  bool shutting_down_ = false;
  size_t workers_drained_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace sluice::server
