#include "server/listener_sockets.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

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

}  // namespace

bool ListenerSockets::update(const proxy::ProxyConfig& config,
                             std::vector<std::vector<proxy::ListenerSocket>>& per_worker, std::string& error) {
  per_worker.assign(workers_, {});
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
    const auto existing = bound_.find(listener->name);
    if (existing != bound_.end() && existing->second.configured == configured) {
      bound.emplace(listener->name, existing->second);  // unchanged: the workers keep their sockets
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
