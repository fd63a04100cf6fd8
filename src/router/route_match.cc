#include "router/route_match.h"

#include <cassert>

#include "router/regex.h"

// Fields sluice does not implement never reach this file: the supported-subset
// gate (config/supported_fields.cc) rejects them, by path, before any compile.

namespace sluice::router {

using config::childPath;
using config::indexPath;

// ---- PathMatcher ----

std::optional<PathMatcher> PathMatcher::build(const envoy::config::route::v3::RouteMatch& config, std::string_view path,
                                              config::ErrorList& errors) {
  using Proto = envoy::config::route::v3::RouteMatch;
  const bool ignore_case = config.has_case_sensitive() && !config.case_sensitive().value();
  switch (config.path_specifier_case()) {
    case Proto::kPrefix:
      return PathMatcher(Kind::kPrefix, config.prefix(), ignore_case);
    case Proto::kPath:
      return PathMatcher(Kind::kPath, config.path(), ignore_case);
    case Proto::kPathSeparatedPrefix: {
      const std::string& prefix = config.path_separated_prefix();
      if (prefix.empty() || prefix.find_first_of("?#") != std::string::npos || prefix.back() == '/') {
        errors.add(childPath(path, "path_separated_prefix"),
                   "must be non-empty, contain no '?' or '#' and not end in '/'");
        return std::nullopt;
      }
      return PathMatcher(Kind::kSeparatedPrefix, prefix, ignore_case);
    }
    case Proto::kSafeRegex: {
      auto regex = compileRegex(config.safe_regex(), childPath(path, "safe_regex"), errors);
      if (!regex) return std::nullopt;
      PathMatcher out(Kind::kRegex, std::string(), false);
      out.regex_ = std::move(regex);
      return out;
    }
    case Proto::kConnectMatcher:
    case Proto::kPathMatchPolicy:
      assert(false && "rejected by the gate");
      [[fallthrough]];
    case Proto::PATH_SPECIFIER_NOT_SET:
      break;
  }
  errors.add(std::string(path), "one of prefix, path, safe_regex or path_separated_prefix is required");
  return std::nullopt;
}

bool PathMatcher::matches(std::string_view path) const {
  switch (kind_) {
    case Kind::kPrefix:
      return startsWith(path, value_, ignore_case_);
    case Kind::kPath:
      return equals(pathWithoutQuery(path), value_, ignore_case_);
    case Kind::kRegex:
      return re2::RE2::FullMatch(pathWithoutQuery(path), *regex_);
    case Kind::kSeparatedPrefix: {
      const std::string_view bare = pathWithoutQuery(path);
      return startsWith(bare, value_, ignore_case_) && (bare.size() == value_.size() || bare[value_.size()] == '/');
    }
  }
  return false;
}

size_t PathMatcher::matchedLength(std::string_view path) const {
  switch (kind_) {
    case Kind::kPrefix:
    case Kind::kSeparatedPrefix:
      return std::min(value_.size(), path.size());
    case Kind::kPath:
    case Kind::kRegex:
      break;
  }
  return pathWithoutQuery(path).size();
}

// ---- RuntimeFraction ----

std::optional<RuntimeFraction> RuntimeFraction::build(const envoy::config::core::v3::RuntimeFractionalPercent& config,
                                                      std::string_view path, config::ErrorList& errors) {
  using Denominator = envoy::type::v3::FractionalPercent;
  RuntimeFraction out;
  out.runtime_key_ = config.runtime_key();
  out.numerator_ = config.default_value().numerator();
  switch (config.default_value().denominator()) {
    case Denominator::HUNDRED:
      out.denominator_ = 100;
      break;
    case Denominator::TEN_THOUSAND:
      out.denominator_ = 10'000;
      break;
    case Denominator::MILLION:
      out.denominator_ = 1'000'000;
      break;
    default:
      errors.add(childPath(childPath(path, "default_value"), "denominator"), "unknown denominator");
      return std::nullopt;
  }
  return out;
}

bool RuntimeFraction::enabled(const runtime::Snapshot& runtime, uint64_t random) const {
  const uint64_t numerator = runtime_key_.empty() ? numerator_ : runtime.getInteger(runtime_key_, numerator_);
  return random % denominator_ < numerator;
}

// ---- RouteMatcher ----

std::optional<RouteMatcher> RouteMatcher::build(const envoy::config::route::v3::RouteMatch& config,
                                                std::string_view path, config::ErrorList& errors) {
  bool ok = true;
  // Conditions sluice cannot evaluate would silently widen the match: the gate refuses them.
  assert(!config.has_grpc() && !config.has_tls_context() && config.dynamic_metadata_size() == 0);
  auto path_matcher = PathMatcher::build(config, path, errors);
  std::optional<RuntimeFraction> fraction;
  if (config.has_runtime_fraction()) {
    fraction = RuntimeFraction::build(config.runtime_fraction(), childPath(path, "runtime_fraction"), errors);
    ok = ok && fraction.has_value();
  }
  std::vector<HeaderMatcher> headers;
  for (int i = 0; i < config.headers_size(); ++i) {
    auto matcher = HeaderMatcher::build(config.headers(i), indexPath(childPath(path, "headers"), i), errors);
    if (matcher) {
      headers.push_back(std::move(*matcher));
    } else {
      ok = false;
    }
  }
  std::vector<QueryParameterMatcher> query_parameters;
  for (int i = 0; i < config.query_parameters_size(); ++i) {
    auto matcher = QueryParameterMatcher::build(config.query_parameters(i),
                                                indexPath(childPath(path, "query_parameters"), i), errors);
    if (matcher) {
      query_parameters.push_back(std::move(*matcher));
    } else {
      ok = false;
    }
  }
  if (!ok || !path_matcher) return std::nullopt;
  RouteMatcher out(std::move(*path_matcher));
  out.runtime_fraction_ = std::move(fraction);
  out.headers_ = std::move(headers);
  out.query_parameters_ = std::move(query_parameters);
  return out;
}

bool RouteMatcher::matches(const RequestView& request, const runtime::Snapshot& runtime, uint64_t random) const {
  // All conditions are pure, so the order only matters for speed: the path
  // rejects most routes, the runtime lookup is the dearest.
  if (!path_.matches(request.path)) return false;
  for (const auto& header : headers_) {
    if (!header.matches(request)) return false;
  }
  for (const auto& query : query_parameters_) {
    if (!query.matches(request.path)) return false;
  }
  return !runtime_fraction_ || runtime_fraction_->enabled(runtime, random);
}

}  // namespace sluice::router
