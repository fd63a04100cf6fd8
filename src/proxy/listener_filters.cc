#include "proxy/listener_filters.h"

#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "log/logger.h"
#include "network/deadline.h"
#include "network/inspect/client_hello.h"

namespace sluice::proxy {
namespace {

using network::inspect::ClientHello;
using network::inspect::HelloStatus;

// What the tls_inspector read: a ClientHello within the bound, or not TLS.
// A ClientHello spans at most its size plus one record header per 16 KiB.
constexpr size_t kMaxPeek = network::inspect::kDefaultMaxClientHelloSize + 5 * 8;
constexpr size_t kFirstPeek = 2048;

void setLowWater(network::Tcp::socket& socket, size_t bytes) {
  const int value = static_cast<int>(bytes);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value);
}

}  // namespace

asio::awaitable<const FilterChainConfig*> inspectConnection(const ListenerConfig& listener,
                                                            network::Tcp::socket& socket) {
  auto& stats = *listener.tls_inspector_stats;
  network::Deadline deadline(socket.get_executor());
  // The timeout cancels the wait (the socket stays open: with
  // continue_on_listener_filters_timeout the connection goes on).
  deadline.arm(listener.listener_filters_timeout, [&socket] {
    std::error_code ignored;
    socket.cancel(ignored);
  });
  std::vector<uint8_t> peeked(kFirstPeek);
  ClientHello hello;
  HelloStatus status = HelloStatus::kNeedMore;
  size_t seen = 0;  // bytes the last peek returned
  while (status == HelloStatus::kNeedMore) {
    const auto [ec] = co_await socket.async_wait(network::Tcp::socket::wait_read, network::kNoThrow);
    if (ec) {
      if (!deadline.expired()) co_return nullptr;  // closed under us (drain, shutdown)
      listener.stats->downstream_pre_cx_timeout.inc();
      if (!listener.continue_on_listener_filters_timeout) co_return nullptr;
      break;  // undecided: matched as not TLS
    }
    const ssize_t n = ::recv(socket.native_handle(), peeked.data(), peeked.size(), MSG_PEEK);
    if (n == 0) co_return nullptr;  // the peer left before it said anything useful
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      co_return nullptr;
    }
    if (static_cast<size_t>(n) == seen) continue;  // nothing new (a spurious wake-up)
    seen = static_cast<size_t>(n);
    status = network::inspect::parseClientHello(std::span<const uint8_t>(peeked.data(), seen),
                                                network::inspect::kDefaultMaxClientHelloSize, hello);
    if (status == HelloStatus::kNeedMore && seen == peeked.size()) {
      if (peeked.size() >= kMaxPeek) {
        status = HelloStatus::kTooLarge;
      } else {
        peeked.resize(std::min(kMaxPeek, peeked.size() * 4));
      }
    }
    // The peeked bytes stay in the socket, so it stays readable: readiness
    // now means "more than `seen` bytes" (SO_RCVLOWAT), or the wait would
    // wake at once, again and again, until the client sends more.
    if (status == HelloStatus::kNeedMore) setLowWater(socket, seen + 1);
  }
  if (seen > 0) setLowWater(socket, 1);
  deadline.disarm();
  std::string_view transport = "raw_buffer";
  switch (status) {
    case HelloStatus::kTls:
      stats.tls_found.inc();
      (hello.server_name.empty() ? stats.sni_not_found : stats.sni_found).inc();
      (hello.alpn.empty() ? stats.alpn_not_found : stats.alpn_found).inc();
      transport = "tls";
      break;
    case HelloStatus::kTooLarge:
      // Envoy closes the connection.
      stats.client_hello_too_large.inc();
      co_return nullptr;
    case HelloStatus::kNotTls:
      stats.tls_not_found.inc();
      break;
    case HelloStatus::kNeedMore:  // a timeout with continue_on_listener_filters_timeout
      break;
  }
  const FilterChainConfig* chain = listener.selectChain(hello.server_name, transport);
  if (chain == nullptr) {
    listener.stats->no_filter_chain_match.inc();
    SLUICE_LOG(connection, debug, "listener '{}': no filter chain matches server name '{}', transport {}",
               listener.name, hello.server_name, transport);
  }
  co_return chain;
}

}  // namespace sluice::proxy
