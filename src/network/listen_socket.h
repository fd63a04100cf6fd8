// Listening sockets: one per listener per worker, bound with SO_REUSEPORT so
// the kernel spreads new connections over the workers without a shared accept
// lock. Created on the worker's io_context, used only by that worker.
#pragma once

#include <string>
#include <system_error>

#include "network/asio_util.h"

namespace sluice::network {

// Parses an IP literal and port into an endpoint; false when `ip` is not one.
bool makeEndpoint(const std::string& ip, uint16_t port, Tcp::endpoint& out);

// Opens, binds (SO_REUSEADDR + SO_REUSEPORT) and listens. Errors leave `acceptor` closed.
std::error_code openListener(Tcp::acceptor& acceptor, const Tcp::endpoint& endpoint, int backlog = 1024);

}  // namespace sluice::network
