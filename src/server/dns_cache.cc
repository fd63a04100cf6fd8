#include "server/dns_cache.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <asio/post.hpp>

namespace sluice::server {

DnsCache::DnsCache(asio::io_context& main)
    : main_(main), work_(resolver_io_.get_executor()), resolver_([this] { resolver_io_.run(); }) {}

DnsCache::~DnsCache() {
  work_.reset();
  resolver_io_.stop();
  resolver_.join();
}

std::vector<std::string> DnsCache::resolve(const std::string& name) {
  std::vector<std::string> out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &result) != 0) return out;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char host[NI_MAXHOST];
    if (::getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, nullptr, 0, NI_NUMERICHOST) == 0 &&
        std::find(out.begin(), out.end(), host) == out.end()) {
      out.emplace_back(host);
    }
  }
  ::freeaddrinfo(result);
  std::sort(out.begin(), out.end());  // stable order: a reordered answer is no change
  return out;
}

const std::vector<std::string>& DnsCache::lookup(const std::string& name) {
  auto it = cache_.find(name);
  if (it == cache_.end()) it = cache_.emplace(name, resolve(name)).first;
  return it->second;
}

void DnsCache::refresh(std::function<void(bool changed)> on_done) {
  if (refreshing_ || cache_.empty()) return;
  refreshing_ = true;
  std::vector<std::string> names;
  for (const auto& [name, addresses] : cache_) names.push_back(name);
  // The resolver thread touches only `names`, `fresh` and main_ (a reference
  // that outlives the thread: the destructor joins it first).
  asio::post(resolver_io_, [this, alive = std::weak_ptr<bool>(alive_), names = std::move(names),
                            on_done = std::move(on_done)]() mutable {
    std::map<std::string, std::vector<std::string>> fresh;
    for (const auto& name : names) fresh.emplace(name, resolve(name));
    asio::post(main_,
               [this, alive = std::move(alive), fresh = std::move(fresh), on_done = std::move(on_done)]() mutable {
                 // Destroyed meanwhile? Checked on the main thread, where the destruction happens.
                 if (alive.expired()) return;
                 refreshing_ = false;
                 bool changed = false;
                 for (auto& [name, addresses] : fresh) {
                   auto& cached = cache_[name];
                   if (cached != addresses) {
                     cached = std::move(addresses);
                     changed = true;
                   }
                 }
                 on_done(changed);
               });
  });
}

}  // namespace sluice::server
