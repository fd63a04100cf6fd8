#include "server/dns_cache.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <asio/post.hpp>
#include "log/logger.h"

namespace sluice::server {

DnsCache::DnsCache(asio::io_context& main)
    : main_(main), work_(resolver_io_.get_executor()), resolver_([this] { resolver_io_.run(); }) {}

DnsCache::~DnsCache() {
  work_.reset();
  resolver_io_.stop();
  resolver_.join();
}

DnsCache::Answer DnsCache::resolve(const std::string& name) {
  Answer answer;
  auto& out = answer.addresses;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  switch (const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &result)) {
    case 0:
      break;
    case EAI_NONAME:  // the name does not exist
    case EAI_NODATA:  // it exists with no address
      return answer;
    default:  // EAI_AGAIN, EAI_FAIL, EAI_SYSTEM, ...: no answer at all
      answer.failure = ::gai_strerror(rc);
      return answer;
  }
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char host[NI_MAXHOST];
    if (::getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, nullptr, 0, NI_NUMERICHOST) == 0 &&
        std::find(out.begin(), out.end(), host) == out.end()) {
      out.emplace_back(host);
    }
  }
  ::freeaddrinfo(result);
  std::sort(out.begin(), out.end());  // stable order: a reordered answer is no change
  return answer;
}

const std::vector<std::string>& DnsCache::lookup(const std::string& name, DnsAnswer answer) {
  auto it = cache_.find(name);
  if (it == cache_.end()) {
    Entry entry;
    Answer first = resolve(name);
    if (first.failure) SLUICE_LOG(dns, warn, "sluice: DNS resolution of '{}' failed: {}", name, *first.failure);
    entry.failing = first.failure.has_value();
    entry.latest = std::move(first.addresses);
    entry.last_non_empty = entry.latest;
    it = cache_.emplace(name, std::move(entry)).first;
  }
  return answer == DnsAnswer::kLatest ? it->second.latest : it->second.last_non_empty;
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
    std::map<std::string, Answer> fresh;
    for (const auto& name : names) fresh.emplace(name, resolve(name));
    asio::post(main_,
               [this, alive = std::move(alive), fresh = std::move(fresh), on_done = std::move(on_done)]() mutable {
                 // Destroyed meanwhile? Checked on the main thread, where the destruction happens.
                 if (alive.expired()) return;
                 refreshing_ = false;
                 bool changed = false;
                 for (auto& [name, answer] : fresh) {
                   auto& entry = cache_[name];
                   // A failed resolution keeps what we had; say so once, not every refresh.
                   if (answer.failure) {
                     if (!entry.failing) {
                       SLUICE_LOG(dns, warn, "sluice: DNS resolution of '{}' failed: {}; keeping its {} address(es)",
                                  name, *answer.failure, entry.latest.size());
                     }
                     entry.failing = true;
                     continue;
                   }
                   if (entry.failing) SLUICE_LOG(dns, info, "sluice: DNS resolution of '{}' recovered", name);
                   entry.failing = false;
                   if (entry.latest == answer.addresses) continue;
                   changed = true;
                   entry.latest = std::move(answer.addresses);
                   if (!entry.latest.empty()) entry.last_non_empty = entry.latest;
                 }
                 on_done(changed);
               });
  });
}

}  // namespace sluice::server
