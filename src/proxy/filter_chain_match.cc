// ListenerConfig::selectChain: Envoy's filter chain match over the criteria
// sluice implements (server_names, transport_protocol), in Envoy's order.
#include <string_view>

#include "proxy/proxy_config.h"

namespace sluice::proxy {
namespace {

constexpr int kNoMatch = -1;
constexpr int kAnyName = 0;
constexpr int kExactName = 1 << 30;

// How well `chain` matches `server_name`: exact beats any wildcard, a longer
// wildcard suffix beats a shorter one, a chain without server_names matches
// any name (last).
int nameRank(const FilterChainConfig& chain, std::string_view server_name) {
  if (chain.server_names.empty()) return kAnyName;
  int best = kNoMatch;
  for (const auto& name : chain.server_names) {
    if (name == server_name) return kExactName;
    // "*.example.com" matches a.example.com and a.b.example.com, not example.com.
    if (name.size() > 2 && name.starts_with("*.")) {
      const std::string_view suffix = std::string_view(name).substr(1);  // ".example.com"
      if (server_name.size() > suffix.size() && server_name.ends_with(suffix)) {
        best = std::max(best, static_cast<int>(suffix.size()));
      }
    }
  }
  return best;
}

}  // namespace

const FilterChainConfig* ListenerConfig::selectChain(std::string_view server_name,
                                                     std::string_view transport_protocol) const {
  int best = kNoMatch;
  for (const auto& chain : filter_chains) best = std::max(best, nameRank(chain, server_name));
  if (best == kNoMatch) return nullptr;
  // Within the best server-name match only (Envoy does not fall back to a
  // less specific name when the transport protocol does not match).
  const FilterChainConfig* any_transport = nullptr;
  for (const auto& chain : filter_chains) {
    if (nameRank(chain, server_name) != best) continue;
    if (chain.transport_protocol == transport_protocol) return &chain;
    if (chain.transport_protocol.empty() && any_transport == nullptr) any_transport = &chain;
  }
  return any_transport;
}

}  // namespace sluice::proxy
