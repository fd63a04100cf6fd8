// The listening sockets of every listener, opened on the main thread: one per
// worker, all bound to the same address with SO_REUSEPORT. A listener asked
// for port 0 gets a port from the kernel for its first socket and the others
// bind that port. Sockets of a listener whose address is unchanged are kept
// across config updates (only new or moved listeners get new sockets).
// Before the first bind of a fixed port this process does not listen on, a
// probe checks that no other process does (docs/HARDENING.md section 5).
#pragma once

#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "proxy/proxy_config.h"
#include "proxy/worker.h"

namespace sluice::server {

class ListenerSockets {
 public:
  explicit ListenerSockets(uint32_t workers) : workers_(workers) {}

  // Opens sockets for the listeners of `config` that are new or moved. On
  // success returns, per worker, the sockets to hand over; on failure nothing
  // changes and `error` names the listener and the reason.
  bool update(const proxy::ProxyConfig& config, std::vector<std::vector<proxy::ListenerSocket>>& per_worker,
              std::string& error);

  // The bound address of a listener ("ip:port"), after update().
  struct Bound {
    std::string configured;  // the endpoint as configured (port may be 0)
    network::Tcp::endpoint local;
  };
  const std::map<std::string, Bound>& bound() const { return bound_; }

 private:
  // False, with `error` naming the listener, when another process listens on
  // the fixed port of a listener this update would open.
  bool checkNoForeignOwner(const proxy::ProxyConfig& config, std::string& error) const;

  uint32_t workers_;
  std::map<std::string, Bound> bound_;
};

}  // namespace sluice::server
