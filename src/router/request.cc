#include "router/request.h"

#include <algorithm>
#include <charconv>

namespace sluice::router {

std::string_view pathWithoutQuery(std::string_view path) { return path.substr(0, path.find_first_of("?#")); }

std::optional<std::string_view> findQueryParameter(std::string_view path, std::string_view name) {
  const size_t question = path.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = path.substr(question + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (key == name) return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

size_t hostPortStart(std::string_view authority) {
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) return std::string_view::npos;
  if (!authority.empty() && authority.front() == '[') {
    // "[v6]:port": the colon must follow the closing bracket.
    return (colon > 0 && authority[colon - 1] == ']') ? colon : std::string_view::npos;
  }
  if (authority.find(':') != colon) return std::string_view::npos;  // bare IPv6 literal
  return colon;
}

std::string_view stripHostPort(std::string_view authority, const MatchOptions& options, bool ignore_port) {
  if (!options.strip_any_host_port && !options.strip_matching_host_port && !ignore_port) return authority;
  const size_t colon = hostPortStart(authority);
  if (colon == std::string_view::npos) return authority;
  const std::string_view port_text = authority.substr(colon + 1);
  uint32_t port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size()) return authority;
  if (!options.strip_any_host_port && !ignore_port && port != options.listener_port) return authority;
  return authority.substr(0, colon);
}

namespace {

std::optional<std::string_view> pseudoHeader(const RequestView& request, std::string_view name) {
  if (name == ":authority") return request.authority;
  if (name == ":path") return request.path;
  if (name == ":method") return request.method;
  if (name == ":scheme") return request.scheme;
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> requestHeaderValue(const RequestView& request, std::string_view name,
                                                   std::string& storage) {
  if (!name.empty() && name.front() == ':') {
    if (auto value = pseudoHeader(request, name); value && !value->empty()) return value;
    // Not known to the view (or empty there): the header map may still carry it.
  }
  std::optional<std::string_view> first;
  bool joined = false;
  request.headers.forEach([&](const http::HeaderMap::Entry& entry) {
    if (entry.name != name) return;
    if (!first) {
      first = entry.value;
      return;
    }
    if (!joined) {
      storage.assign(*first);
      joined = true;
    }
    storage += ',';
    storage += entry.value;
  });
  if (joined) return std::string_view(storage);
  if (!first && name == "host" && !request.authority.empty()) return request.authority;
  return first;
}

bool equals(std::string_view a, std::string_view b, bool ignore_case) {
  return ignore_case ? http::equalsIgnoreCase(a, b) : a == b;
}

bool startsWith(std::string_view value, std::string_view prefix, bool ignore_case) {
  return value.size() >= prefix.size() && equals(value.substr(0, prefix.size()), prefix, ignore_case);
}

bool endsWith(std::string_view value, std::string_view suffix, bool ignore_case) {
  return value.size() >= suffix.size() && equals(value.substr(value.size() - suffix.size()), suffix, ignore_case);
}

bool contains(std::string_view value, std::string_view needle, bool ignore_case) {
  if (!ignore_case) return value.find(needle) != std::string_view::npos;
  if (needle.size() > value.size()) return false;
  for (size_t i = 0; i + needle.size() <= value.size(); ++i) {
    if (http::equalsIgnoreCase(value.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string toLower(std::string_view value) {
  std::string out(value);
  std::transform(out.begin(), out.end(), out.begin(), http::toLowerAscii);
  return out;
}

}  // namespace sluice::router
