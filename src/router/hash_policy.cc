#include "router/hash_policy.h"

#include <algorithm>
#include <cassert>

#include "common/hash.h"

// Fields sluice does not implement never reach this file: the supported-subset
// gate (config/supported_fields.cc) rejects them, by path, before any compile.

namespace sluice::router {

using config::childPath;
using config::indexPath;

std::optional<HashPolicy> HashPolicy::build(
    const google::protobuf::RepeatedPtrField<envoy::config::route::v3::RouteAction::HashPolicy>& config,
    std::string_view path, config::ErrorList& errors) {
  using Proto = envoy::config::route::v3::RouteAction::HashPolicy;
  if (config.empty()) return std::nullopt;
  HashPolicy out;
  bool ok = true;
  for (int i = 0; i < config.size(); ++i) {
    const Proto& policy = config.Get(i);
    const std::string policy_path = indexPath(path, i);
    switch (policy.policy_specifier_case()) {
      case Proto::kHeader:
        assert(!policy.header().has_regex_rewrite());
        if (policy.header().header_name().empty()) {
          errors.add(childPath(childPath(policy_path, "header"), "header_name"), "must not be empty");
          ok = false;
          break;
        }
        out.methods_.push_back({Kind::kHeader, toLower(policy.header().header_name()), policy.terminal()});
        break;
      case Proto::kCookie:
        // ttl would make Envoy generate the cookie when absent; sluice only hashes an existing one.
        out.methods_.push_back({Kind::kCookie, policy.cookie().name(), policy.terminal()});
        break;
      case Proto::kConnectionProperties:
        // source_ip: false configures nothing, as in Envoy.
        if (policy.connection_properties().source_ip()) {
          out.methods_.push_back({Kind::kSourceIp, std::string(), policy.terminal()});
        }
        break;
      case Proto::kQueryParameter:
        out.methods_.push_back({Kind::kQueryParameter, policy.query_parameter().name(), policy.terminal()});
        break;
      case Proto::kFilterState:
        assert(false && "rejected by the gate");
        [[fallthrough]];
      case Proto::POLICY_SPECIFIER_NOT_SET:
        errors.add(policy_path, "one of header, cookie, connection_properties or query_parameter is required");
        ok = false;
        break;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<uint64_t> HashPolicy::evaluate(const Method& method, const RequestView& request) const {
  switch (method.kind) {
    case Kind::kHeader: {
      // Every value of the header, sorted so that field order does not change the hash.
      std::string storage;
      if (method.name.front() == ':') {
        const auto value = requestHeaderValue(request, method.name, storage);
        if (!value) return std::nullopt;
        return hash64(*value);
      }
      std::optional<std::string_view> first;
      std::vector<std::string_view> more;  // allocates only for a repeated header
      request.headers.forEach([&](const http::HeaderMap::Entry& entry) {
        if (entry.name != method.name) return;
        if (first) {
          more.push_back(entry.value);
        } else {
          first = entry.value;
        }
      });
      if (!first) return std::nullopt;
      if (more.empty()) return hash64(*first);
      more.push_back(*first);
      std::sort(more.begin(), more.end());
      uint64_t hash = 0;
      for (const auto value : more) hash = hash64(value, hash);
      return hash;
    }
    case Kind::kCookie: {
      const auto value = findCookie(request.headers, method.name);
      if (!value) return std::nullopt;
      return hash64(*value);
    }
    case Kind::kSourceIp:
      if (request.source_ip.empty()) return std::nullopt;
      return hash64(request.source_ip);
    case Kind::kQueryParameter: {
      const auto value = findQueryParameter(request.path, method.name);
      if (!value) return std::nullopt;
      return hash64(*value);
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> HashPolicy::hash(const RequestView& request) const {
  std::optional<uint64_t> hash;
  for (const auto& method : methods_) {
    if (const auto value = evaluate(method, request)) {
      const uint64_t rotated = hash ? ((*hash << 1) | (*hash >> 63)) : 0;
      hash = rotated ^ *value;
    }
    if (method.terminal && hash) break;
  }
  return hash;
}

std::optional<std::string_view> findCookie(const http::HeaderMap& headers, std::string_view name) {
  std::optional<std::string_view> found;
  headers.forEach([&](const http::HeaderMap::Entry& entry) {
    if (found || entry.name != "cookie") return;
    std::string_view rest = entry.value;
    while (!rest.empty() && !found) {
      const size_t semicolon = rest.find(';');
      std::string_view pair = rest.substr(0, semicolon);
      rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
      std::string_view value = pair.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      found = value;
    }
  });
  return found;
}

}  // namespace sluice::router
