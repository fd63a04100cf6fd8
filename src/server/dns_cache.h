// Host names of STRICT_DNS and LOGICAL_DNS clusters, resolved off the worker
// threads: once at start-up (blocking the main thread, before any traffic),
// then again every dns_refresh_rate on a resolver thread of its own, so the
// main thread never blocks on DNS after start. The cache itself is read and
// written on the main thread only.
//
// As in Envoy, a resolution that fails (no answer from the resolver, a
// temporary error) changes nothing; only a definite answer does, and a
// definite "no such name" is an empty answer.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

namespace sluice::server {

// Which answer a DNS cluster takes for a name: STRICT_DNS the latest (an empty
// one means no hosts), LOGICAL_DNS the latest that was not empty (Envoy's
// logical DNS never drops its host on an empty answer).
enum class DnsAnswer { kLatest, kLastNonEmpty };

class DnsCache {
 public:
  explicit DnsCache(asio::io_context& main);
  ~DnsCache();
  DnsCache(const DnsCache&) = delete;
  DnsCache& operator=(const DnsCache&) = delete;

  // The addresses of `name` (IP literals), resolving it now if it was never
  // resolved. Empty when the name does not resolve.
  const std::vector<std::string>& lookup(const std::string& name, DnsAnswer answer = DnsAnswer::kLatest);

  // Resolves every cached name again on the resolver thread; back on the main
  // thread, updates the cache and calls `on_done(changed)`, `changed` saying
  // whether any name's addresses changed. Does nothing (and never calls
  // `on_done`) while a refresh is running or when nothing is cached. A refresh
  // still running when the cache is destroyed is dropped.
  void refresh(std::function<void(bool changed)> on_done);

 private:
  struct Entry {
    std::vector<std::string> latest;
    std::vector<std::string> last_non_empty;
    bool failing = false;  // the last resolution failed (logged once, until it recovers)
  };
  // One resolution: the sorted addresses (a definite "no such name" is an
  // empty list), or the reason there was no answer at all.
  struct Answer {
    std::vector<std::string> addresses;
    std::optional<std::string> failure;
  };
  static Answer resolve(const std::string& name);

  asio::io_context& main_;
  asio::io_context resolver_io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread resolver_;
  std::map<std::string, Entry> cache_;
  bool refreshing_ = false;
  // Results posted back to the main thread check this first: the cache may be
  // gone by the time the main thread runs them.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sluice::server
