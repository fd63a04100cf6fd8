// Virtual-host selection by host name, with Envoy's precedence: an exact
// domain; else the longest suffix wildcard ("*.foo.com", "*-bar.foo.com");
// else the longest prefix wildcard ("foo.*"); else "*". Wildcards stand for at
// least one character. Case-insensitive, with no allocation per lookup.
// Built on the main thread, then only read.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sluice::router {

class VirtualHost;

class DomainIndex {
 public:
  // Registers `domain` (as configured) for `virtual_host`. Returns the virtual
  // host already holding an equivalent domain (nothing is changed then), or
  // nullptr when added.
  const VirtualHost* add(std::string_view domain, const VirtualHost* virtual_host);

  // `host` is the authority as used for matching (port already stripped if
  // the options say so). nullptr when no domain matches.
  const VirtualHost* find(std::string_view host) const;

 private:
  struct CaseInsensitiveHash {
    using is_transparent = void;
    size_t operator()(std::string_view value) const;
  };
  struct CaseInsensitiveEqual {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const;
  };
  using Map = std::unordered_map<std::string, const VirtualHost*, CaseInsensitiveHash, CaseInsensitiveEqual>;
  // Keyed by the wildcard's fixed part; grouped by its length, longest first.
  using ByLength = std::map<size_t, Map, std::greater<>>;

  static const VirtualHost* addTo(Map& map, std::string_view key, const VirtualHost* virtual_host);

  Map exact_;
  ByLength suffixes_;  // "*.foo.com" stored as ".foo.com"
  ByLength prefixes_;  // "foo.*" stored as "foo."
  const VirtualHost* default_ = nullptr;
};

}  // namespace sluice::router
