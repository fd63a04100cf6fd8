#include "network/listen_socket.h"

#include <sys/socket.h>

namespace sluice::network {

bool makeEndpoint(const std::string& ip, uint16_t port, Tcp::endpoint& out) {
  std::error_code ec;
  const auto address = asio::ip::make_address(ip, ec);
  if (ec) return false;
  out = Tcp::endpoint(address, port);
  return true;
}

std::error_code openListener(Tcp::acceptor& acceptor, const Tcp::endpoint& endpoint, int backlog) {
  std::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return ec;
  acceptor.set_option(Tcp::acceptor::reuse_address(true), ec);
  if (ec) return ec;
  // Each worker binds its own socket to the same address; the kernel hashes
  // connections across them.
  const int one = 1;
  if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
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

}  // namespace sluice::network
