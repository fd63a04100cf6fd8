// Value matchers of a route: Envoy's StringMatcher, HeaderMatcher and
// QueryParameterMatcher, compiled from config. Immutable once built; matching
// is const and safe from any worker. Matching allocates only to join a header
// that appears several times.
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config_error.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"
#include "router/request.h"

namespace sluice::router {

// exact / prefix / suffix / contains (optionally ignoring ASCII case) or a
// full RE2 match (ignore_case has no effect on it, as in Envoy).
class StringMatcher {
 public:
  enum class Kind { kExact, kPrefix, kSuffix, kContains, kRegex };

  // nullopt (with errors added at `path`) when the matcher is invalid.
  static std::optional<StringMatcher> build(const envoy::type::matcher::v3::StringMatcher& config,
                                            std::string_view path, config::ErrorList& errors);
  StringMatcher(Kind kind, std::string pattern, bool ignore_case);
  explicit StringMatcher(std::unique_ptr<const re2::RE2> regex);

  bool match(std::string_view value) const;

 private:
  Kind kind_;
  std::string pattern_;
  bool ignore_case_ = false;
  std::unique_ptr<const re2::RE2> regex_;
};

// One `RouteMatch.headers` entry. A header present several times is matched
// as its values joined with ','. A missing header fails the match (so it
// matches when inverted) unless treat_missing_header_as_empty.
class HeaderMatcher {
 public:
  static std::optional<HeaderMatcher> build(const envoy::config::route::v3::HeaderMatcher& config,
                                            std::string_view path, config::ErrorList& errors);

  bool matches(const RequestView& request) const;

 private:
  enum class Kind { kValue, kPresent, kRange };
  HeaderMatcher(std::string name, Kind kind) : name_(std::move(name)), kind_(kind) {}
  bool matchesValue(std::string_view value) const;

  std::string name_;  // lowercase
  Kind kind_;
  std::optional<StringMatcher> value_;  // kValue
  bool present_ = true;                 // kPresent: whether presence or absence matches
  int64_t range_start_ = 0;             // kRange: [start, end)
  int64_t range_end_ = 0;
  bool invert_ = false;
  bool treat_missing_as_empty_ = false;
};

// One `RouteMatch.query_parameters` entry: the first value of the parameter,
// raw (not percent-decoded), against a StringMatcher; or its presence.
class QueryParameterMatcher {
 public:
  static std::optional<QueryParameterMatcher> build(const envoy::config::route::v3::QueryParameterMatcher& config,
                                                    std::string_view path, config::ErrorList& errors);

  bool matches(std::string_view path) const;

 private:
  explicit QueryParameterMatcher(std::string name) : name_(std::move(name)) {}

  std::string name_;
  std::optional<StringMatcher> value_;  // nullopt: present match
};

}  // namespace sluice::router
