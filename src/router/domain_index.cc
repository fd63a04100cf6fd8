#include "router/domain_index.h"

#include "http/header_map.h"

namespace sluice::router {

size_t DomainIndex::CaseInsensitiveHash::operator()(std::string_view value) const {
  // FNV-1a over the lowercased bytes.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : value) {
    h ^= static_cast<uint8_t>(http::toLowerAscii(c));
    h *= 0x100000001b3ULL;
  }
  return static_cast<size_t>(h);
}

bool DomainIndex::CaseInsensitiveEqual::operator()(std::string_view a, std::string_view b) const {
  return http::equalsIgnoreCase(a, b);
}

const VirtualHost* DomainIndex::addTo(Map& map, std::string_view key, const VirtualHost* virtual_host) {
  const auto [it, inserted] = map.try_emplace(std::string(key), virtual_host);
  return inserted ? nullptr : it->second;
}

const VirtualHost* DomainIndex::add(std::string_view domain, const VirtualHost* virtual_host) {
  if (domain == "*") {
    if (default_ != nullptr) return default_;
    default_ = virtual_host;
    return nullptr;
  }
  if (domain.size() > 1 && domain.front() == '*') {
    const std::string_view suffix = domain.substr(1);
    return addTo(suffixes_[suffix.size()], suffix, virtual_host);
  }
  if (domain.size() > 1 && domain.back() == '*') {
    const std::string_view prefix = domain.substr(0, domain.size() - 1);
    return addTo(prefixes_[prefix.size()], prefix, virtual_host);
  }
  return addTo(exact_, domain, virtual_host);
}

const VirtualHost* DomainIndex::find(std::string_view host) const {
  if (const auto it = exact_.find(host); it != exact_.end()) return it->second;
  for (const auto& [length, map] : suffixes_) {
    if (host.size() <= length) continue;  // the '*' must stand for at least one character
    if (const auto it = map.find(host.substr(host.size() - length)); it != map.end()) return it->second;
  }
  for (const auto& [length, map] : prefixes_) {
    if (host.size() <= length) continue;
    if (const auto it = map.find(host.substr(0, length)); it != map.end()) return it->second;
  }
  return default_;
}

}  // namespace sluice::router
