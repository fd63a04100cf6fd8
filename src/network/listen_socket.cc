#include "network/listen_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::network {

bool makeEndpoint(const std::string& ip, uint16_t port, Tcp::endpoint& out) {
  std::error_code ec;
  const auto address = asio::ip::make_address(ip, ec);
  if (ec) return false;
  out = Tcp::endpoint(address, port);
  return true;
}

std::error_code openListener(Tcp::acceptor& acceptor, const Tcp::endpoint& endpoint, PortSharing sharing, int backlog) {
  std::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return ec;
  acceptor.set_option(Tcp::acceptor::reuse_address(true), ec);
  if (ec) return ec;
  // Each worker binds its own socket to the same address; the kernel hashes
  // connections across them.
  const int one = 1;
  if (sharing == PortSharing::kShared &&
      ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    ec.assign(errno, std::system_category());
    acceptor.close();
    return ec;
  }
  acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(backlog, ec);
  if (ec) {
    std::error_code ignored;
    acceptor.close(ignored);
  }
  return ec;
}

bool foreignListenerOn(const Tcp::endpoint& endpoint, std::error_code& ec) {
  ec.clear();
  const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ec.assign(errno, std::system_category());
    return false;
  }
  // SO_REUSEADDR: a port whose old connections linger in TIME_WAIT, or whose
  // accepted connections outlive their listener, is free. No SO_REUSEPORT: a
  // listening socket of anyone else (SO_REUSEPORT or not) makes bind fail.
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool taken = false;
  if (::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
    taken = errno == EADDRINUSE;
    if (!taken) ec.assign(errno, std::system_category());
  }
  ::close(fd);
  return taken;
}

}  // namespace sluice::network
