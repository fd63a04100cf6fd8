// The listener filters a new connection passes before its filter chain is
// chosen: the envoy.filters.listener.tls_inspector, which peeks (MSG_PEEK,
// nothing consumed) at the client's first bytes until it has a whole
// ClientHello, knows it is not TLS, or the bound (64 KiB) or
// listener_filters_timeout is reached. Worker thread; a coroutine per
// connection, holding a buffer only while it peeks.
#pragma once

#include "network/asio_util.h"
#include "proxy/proxy_config.h"

namespace sluice::proxy {

// The filter chain for the connection on `socket` (what the tls_inspector
// found, then ListenerConfig::selectChain), or null: close it (a timeout, a
// peer gone, a ClientHello too large, or no chain matches; each counted).
asio::awaitable<const FilterChainConfig*> inspectConnection(const ListenerConfig& listener,
                                                            network::Tcp::socket& socket);

// The chain of a connection on a listener without listener filters: plain
// bytes (transport protocol raw_buffer, no server name). Null: none matches.
inline const FilterChainConfig* plainChain(const ListenerConfig& listener) {
  return listener.selectChain({}, "raw_buffer");
}

}  // namespace sluice::proxy
