#include "server/listener_sockets.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "network/listen_socket.h"

namespace sluice::server {
namespace {

std::string endpointText(const network::Tcp::endpoint& e) {
  std::ostringstream out;
  out << e;
  return out.str();
}

// A bound, listening socket for `endpoint`, or -1 with `error`.
int openSocket(const network::Tcp::endpoint& endpoint, std::string& error) {
  const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0 || ::listen(fd, 1024) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether this process listens on `endpoint`'s port already (any listener):
// its own sockets may join with SO_REUSEPORT; a probe would find itself.
bool ownsPort(const std::map<std::string, ListenerSockets::Bound>& bound, const network::Tcp::endpoint& endpoint) {
  for (const auto& [name, b] : bound) {
    if (b.local.port() == endpoint.port() && b.local.protocol() == endpoint.protocol()) return true;
  }
  return false;
}

// Whether `listener` keeps its sockets: same name, same configured address.
bool unchanged(const std::map<std::string, ListenerSockets::Bound>& bound, const proxy::ListenerConfig& listener) {
  const auto it = bound.find(listener.name);
  return it != bound.end() && it->second.configured == endpointText(listener.endpoint);
}

}  // namespace

// A fixed port nobody in this process holds: another process (a second sluice
// with the same config) must not own it, or the kernel would split connections
// between the two (SO_REUSEPORT). Checked for every listener before any socket
// is opened, so a refused config never listens. Port 0 is always fresh.
bool ListenerSockets::checkNoForeignOwner(const proxy::ProxyConfig& config, std::string& error) const {
  for (const auto& listener : config.listeners) {
    const auto& endpoint = listener->endpoint;
    if (unchanged(bound_, *listener) || endpoint.port() == 0 || ownsPort(bound_, endpoint)) continue;
    std::error_code ec;
    if (network::foreignListenerOn(endpoint, ec)) {
      error = "listener '" + listener->name + "' cannot listen on " + endpointText(endpoint) +
              ": the address is in use by another process (is another sluice running with this configuration?)";
      return false;
    }
  }
  return true;
}

bool ListenerSockets::update(const proxy::ProxyConfig& config,
                             std::vector<std::vector<proxy::ListenerSocket>>& per_worker, std::string& error) {
  per_worker.assign(workers_, {});
  if (!checkNoForeignOwner(config, error)) return false;
  std::map<std::string, Bound> bound;
  std::vector<int> opened;
  auto fail = [&](const std::string& why) {
    for (int fd : opened) ::close(fd);
    per_worker.assign(workers_, {});
    error = why;
    return false;
  };
  for (const auto& listener : config.listeners) {
    const std::string configured = endpointText(listener->endpoint);
    if (unchanged(bound_, *listener)) {
      bound.emplace(listener->name, bound_.at(listener->name));  // unchanged: the workers keep their sockets
      continue;
    }
    network::Tcp::endpoint endpoint = listener->endpoint;
    for (uint32_t w = 0; w < workers_; ++w) {
      std::string why;
      const int fd = openSocket(endpoint, why);
      if (fd < 0)
        return fail("listener '" + listener->name + "' cannot listen on " + endpointText(endpoint) + ": " + why);
      opened.push_back(fd);
      if (w == 0) {
        // Learn the port the kernel chose, so every worker binds the same one.
        sockaddr_storage storage{};
        socklen_t length = sizeof storage;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
        endpoint.resize(length);
        std::memcpy(endpoint.data(), &storage, length);
      }
      per_worker[w].push_back({listener->name, fd, endpoint.address().is_v6()});
    }
    bound.emplace(listener->name, Bound{configured, endpoint});
  }
  bound_ = std::move(bound);
  return true;
}

}  // namespace sluice::server
