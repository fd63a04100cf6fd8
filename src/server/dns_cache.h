// Host names of STRICT_DNS and LOGICAL_DNS clusters, resolved off the worker
// threads: once at start-up (blocking the main thread, before any traffic),
// then again every dns_refresh_rate on a resolver thread of its own, so the
// main thread never blocks on DNS after start. The cache itself is read and
// written on the main thread only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

namespace sluice::server {

class DnsCache {
 public:
  explicit DnsCache(asio::io_context& main);
  ~DnsCache();
  DnsCache(const DnsCache&) = delete;
  DnsCache& operator=(const DnsCache&) = delete;

  // The addresses of `name` (IP literals), resolving it now if it was never
  // resolved. Empty when the name does not resolve.
  const std::vector<std::string>& lookup(const std::string& name);

  // Resolves every cached name again on the resolver thread; back on the main
  // thread, calls `on_changed` if any name's addresses changed.
  void refresh(std::function<void()> on_changed);

 private:
  static std::vector<std::string> resolve(const std::string& name);

  asio::io_context& main_;
  asio::io_context resolver_io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread resolver_;
  std::map<std::string, std::vector<std::string>> cache_;
  bool refreshing_ = false;
};

}  // namespace sluice::server
