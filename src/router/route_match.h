// The `match` of one route (Envoy's RouteMatch): a path specifier plus
// optional runtime fraction, header and query-parameter conditions, all of
// which must hold. Immutable once built; const matching from any worker.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "router/matchers.h"
#include "router/request.h"
#include "runtime/runtime.h"

namespace sluice::router {

// prefix / path / safe_regex / path_separated_prefix.
//  - prefix compares the start of the full :path (as Envoy's docs say);
//  - path and path_separated_prefix compare the path without its query;
//  - safe_regex must match the whole path without its query and ignores
//    case_sensitive.
class PathMatcher {
 public:
  enum class Kind { kPrefix, kPath, kRegex, kSeparatedPrefix };

  static std::optional<PathMatcher> build(const envoy::config::route::v3::RouteMatch& config, std::string_view path,
                                          config::ErrorList& errors);

  bool matches(std::string_view path) const;
  // How many leading bytes of a matching :path the specifier covers: what
  // prefix_rewrite replaces (the prefix, or the whole path without query).
  size_t matchedLength(std::string_view path) const;
  Kind kind() const { return kind_; }

 private:
  PathMatcher(Kind kind, std::string value, bool ignore_case)
      : kind_(kind), value_(std::move(value)), ignore_case_(ignore_case) {}

  Kind kind_;
  std::string value_;
  bool ignore_case_ = false;
  std::unique_ptr<const re2::RE2> regex_;
};

// RuntimeFractionalPercent: matches when random % denominator < numerator;
// the runtime value at runtime_key, when set, replaces the numerator.
class RuntimeFraction {
 public:
  static std::optional<RuntimeFraction> build(const envoy::config::core::v3::RuntimeFractionalPercent& config,
                                              std::string_view path, config::ErrorList& errors);

  bool enabled(const runtime::Snapshot& runtime, uint64_t random) const;
  // Empty: no runtime_key (the configured numerator always applies).
  const std::string& runtimeKey() const { return runtime_key_; }

 private:
  std::string runtime_key_;
  uint64_t numerator_ = 0;
  uint64_t denominator_ = 100;
};

class RouteMatcher {
 public:
  static std::optional<RouteMatcher> build(const envoy::config::route::v3::RouteMatch& config, std::string_view path,
                                           config::ErrorList& errors);

  // `random` is the stream's random value (also used for weighted clusters).
  bool matches(const RequestView& request, const runtime::Snapshot& runtime, uint64_t random) const;
  const PathMatcher& pathMatcher() const { return path_; }
  const std::optional<RuntimeFraction>& runtimeFraction() const { return runtime_fraction_; }

 private:
  explicit RouteMatcher(PathMatcher path) : path_(std::move(path)) {}

  PathMatcher path_;
  std::optional<RuntimeFraction> runtime_fraction_;
  std::vector<HeaderMatcher> headers_;
  std::vector<QueryParameterMatcher> query_parameters_;
};

}  // namespace sluice::router
