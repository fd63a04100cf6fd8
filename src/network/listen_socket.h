// Listening sockets: one per listener per worker, bound with SO_REUSEPORT so
// the kernel spreads new connections over the workers without a shared accept
// lock. Created on the worker's io_context, used only by that worker. The
// admin socket is exclusive. See docs/HARDENING.md section 5 (port ownership).
#pragma once

#include <string>
#include <system_error>

#include "network/asio_util.h"

namespace sluice::network {

// Parses an IP literal and port into an endpoint; false when `ip` is not one.
bool makeEndpoint(const std::string& ip, uint16_t port, Tcp::endpoint& out);

// Whether other sockets may bind the same address. kShared (SO_REUSEPORT) is
// for the per-worker sockets of one listener; kExclusive (the admin socket)
// fails with EADDRINUSE while any other socket listens there, so a second
// process cannot silently take half the traffic.
enum class PortSharing { kShared, kExclusive };

// Opens, binds (SO_REUSEADDR, plus SO_REUSEPORT when kShared) and listens.
// Errors leave `acceptor` closed.
std::error_code openListener(Tcp::acceptor& acceptor, const Tcp::endpoint& endpoint, PortSharing sharing,
                             int backlog = 1024);

// Whether a socket of another owner listens on `endpoint` (port != 0): binds a
// socket with SO_REUSEADDR but not SO_REUSEPORT and closes it at once. Only
// EADDRINUSE is an owner; `ec` gets other errors (they reappear at the real bind).
// Call it only for addresses this process does not listen on itself.
bool foreignListenerOn(const Tcp::endpoint& endpoint, std::error_code& ec);

}  // namespace sluice::network
