// The admin HTTP endpoint (Envoy's `admin.address`), served on the main
// thread's io_context, never on a worker. Handlers are registered by path;
// each answers one request. Main thread only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "network/accept_backoff.h"
#include "network/asio_util.h"
#include "stats/stats.h"

namespace sluice::admin {

struct AdminRequest {
  std::string method;
  std::string path;   // without the query
  std::string query;  // after '?', raw
  std::string content_type;
  std::string body;  // a Content-Length body (up to kMaxAdminBody)
  // The value of query parameter `name`, or "" (percent-decoding not needed by the handlers).
  std::string param(std::string_view name) const;
  bool hasParam(std::string_view name) const;
};

// %XX sequences decoded ('+' stays as is); a malformed one is kept verbatim.
std::string percentDecode(std::string_view value);

inline constexpr size_t kMaxAdminBody = 1024 * 1024;

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=UTF-8";
  std::string body;
  // Sent as given; "cache-control" here replaces the default (no-cache).
  std::vector<std::pair<std::string, std::string>> headers = {};
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  // Its listener.admin.* stats go to `store`.
  AdminServer(asio::io_context& io, stats::Store& store) : io_(io), store_(store), acceptor_(io), backoff_timer_(io) {}

  // A query parameter, listed under its endpoint by /help.
  struct Param {
    std::string name;
    std::string help;
  };
  // `mutating` handlers refuse any method but POST with 405, as Envoy's do.
  void add(std::string path, std::string help, bool mutating, Handler handler, std::vector<Param> params = {});
  // A handler for every path under `prefix` (which ends with '/'), e.g.
  // "/v1/nodes/" for /v1/nodes/{id}; an exact path registered by add() wins.
  // Never mutating.
  void addPrefix(std::string prefix, std::string help, Handler handler);
  // A handler that waits on I/O (the control plane's writes to its store,
  // its calls to a peer). Every method reaches it (it answers 405 itself
  // where it must). `path` ending with '/' takes every path under it;
  // checked before the synchronous handlers.
  using AsyncHandler = std::function<asio::awaitable<AdminResponse>(const AdminRequest&)>;
  // `takes` (when set) narrows a '/'-ended path: the paths under it that it
  // declines go on to the synchronous handlers (e.g. /v1/nodes/{id}/admin/*
  // async, /v1/nodes/{id} not).
  using PathFilter = std::function<bool(std::string_view path)>;
  void addAsync(std::string path, std::string help, AsyncHandler handler, PathFilter takes = {});
  // Envoy's /help text: every endpoint, "(POST)" after the mutating ones, its parameters below it.
  std::string helpText() const;
  // Binds without SO_REUSEPORT: EADDRINUSE when another process (a second
  // sluice) has the port, as Envoy fails on its admin bind.
  std::error_code listen(const network::Tcp::endpoint& endpoint);
  network::Tcp::endpoint localEndpoint() const;
  void close();

 private:
  struct Entry {
    std::string help;
    bool mutating;
    Handler handler;
    std::vector<Param> params;
  };
  asio::awaitable<void> acceptLoop();
  // At the descriptor limit: accepts one connection on the spare descriptor,
  // else waits (backoff_timer_). False when the acceptor closed meanwhile.
  asio::awaitable<bool> acceptAtTheLimit(std::error_code ec);
  // serve(), then takes the spare descriptor again if it was used.
  asio::awaitable<void> serveAndReserve(network::Tcp::socket socket);
  asio::awaitable<void> serve(network::Tcp::socket socket);
  AdminResponse dispatch(const AdminRequest& request) const;
  asio::awaitable<AdminResponse> dispatchAsync(const AdminRequest& request) const;

  asio::io_context& io_;
  stats::Store& store_;
  network::Tcp::acceptor acceptor_;
  std::map<std::string, Entry> handlers_;
  std::map<std::string, Entry> prefix_handlers_;
  struct AsyncEntry {
    std::string help;
    AsyncHandler handler;
    PathFilter takes;
  };
  std::map<std::string, AsyncEntry> async_handlers_;
  // Fd exhaustion (docs/HARDENING.md): admin stays reachable at the
  // process's descriptor limit by holding one spare descriptor for itself.
  network::ReservedDescriptor spare_;
  network::AcceptBackoff backoff_;
  network::ExhaustionEpisodes episodes_;
  asio::steady_timer backoff_timer_;
  stats::Counter* fd_exhausted_ = nullptr;  // listener.admin.downstream_cx_fd_exhausted
};

}  // namespace sluice::admin
