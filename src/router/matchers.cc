#include "router/matchers.h"

#include <cassert>
#include <charconv>

#include "router/regex.h"

// Fields sluice does not implement never reach this file: the supported-subset
// gate (config/supported_fields.cc) rejects them, by path, before any compile.

namespace sluice::router {

using config::childPath;

// ---- StringMatcher ----

StringMatcher::StringMatcher(Kind kind, std::string pattern, bool ignore_case)
    : kind_(kind), pattern_(std::move(pattern)), ignore_case_(ignore_case) {}

StringMatcher::StringMatcher(std::unique_ptr<const re2::RE2> regex) : kind_(Kind::kRegex), regex_(std::move(regex)) {}

std::optional<StringMatcher> StringMatcher::build(const envoy::type::matcher::v3::StringMatcher& config,
                                                  std::string_view path, config::ErrorList& errors) {
  using Proto = envoy::type::matcher::v3::StringMatcher;
  const bool ignore_case = config.ignore_case();
  switch (config.match_pattern_case()) {
    case Proto::kExact:
      return StringMatcher(Kind::kExact, config.exact(), ignore_case);
    case Proto::kPrefix:
      return StringMatcher(Kind::kPrefix, config.prefix(), ignore_case);
    case Proto::kSuffix:
      return StringMatcher(Kind::kSuffix, config.suffix(), ignore_case);
    case Proto::kContains:
      return StringMatcher(Kind::kContains, config.contains(), ignore_case);
    case Proto::kSafeRegex: {
      auto regex = compileRegex(config.safe_regex(), childPath(path, "safe_regex"), errors);
      if (!regex) return std::nullopt;
      return StringMatcher(std::move(regex));
    }
    case Proto::kCustom:
      assert(false && "rejected by the gate");
      [[fallthrough]];
    case Proto::MATCH_PATTERN_NOT_SET:
      break;
  }
  errors.add(std::string(path), "one of exact, prefix, suffix, contains or safe_regex is required");
  return std::nullopt;
}

bool StringMatcher::match(std::string_view value) const {
  switch (kind_) {
    case Kind::kExact:
      return equals(value, pattern_, ignore_case_);
    case Kind::kPrefix:
      return startsWith(value, pattern_, ignore_case_);
    case Kind::kSuffix:
      return endsWith(value, pattern_, ignore_case_);
    case Kind::kContains:
      return contains(value, pattern_, ignore_case_);
    case Kind::kRegex:
      return re2::RE2::FullMatch(value, *regex_);
  }
  return false;
}

// ---- HeaderMatcher ----

namespace {

// absl::SimpleAtoi's leniency: surrounding whitespace and a leading '+'.
std::optional<int64_t> parseInt64(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t out = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return out;
}

}  // namespace

std::optional<HeaderMatcher> HeaderMatcher::build(const envoy::config::route::v3::HeaderMatcher& config,
                                                  std::string_view path, config::ErrorList& errors) {
  using Proto = envoy::config::route::v3::HeaderMatcher;
  if (config.name().empty()) {
    errors.add(childPath(path, "name"), "must not be empty");
    return std::nullopt;
  }
  std::string name = toLower(config.name());
  std::optional<HeaderMatcher> out;
  auto value_matcher = [&](StringMatcher::Kind kind, const std::string& pattern) {
    out.emplace(HeaderMatcher(std::move(name), Kind::kValue));
    out->value_.emplace(kind, pattern, false);
  };
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  switch (config.header_match_specifier_case()) {
    case Proto::kExactMatch:
      value_matcher(StringMatcher::Kind::kExact, config.exact_match());
      break;
    case Proto::kPrefixMatch:
      value_matcher(StringMatcher::Kind::kPrefix, config.prefix_match());
      break;
    case Proto::kSuffixMatch:
      value_matcher(StringMatcher::Kind::kSuffix, config.suffix_match());
      break;
    case Proto::kContainsMatch:
      value_matcher(StringMatcher::Kind::kContains, config.contains_match());
      break;
    case Proto::kSafeRegexMatch: {
      auto regex = compileRegex(config.safe_regex_match(), childPath(path, "safe_regex_match"), errors);
      if (!regex) return std::nullopt;
      out.emplace(HeaderMatcher(std::move(name), Kind::kValue));
      out->value_.emplace(std::move(regex));
      break;
    }
    case Proto::kStringMatch: {
      auto matcher = StringMatcher::build(config.string_match(), childPath(path, "string_match"), errors);
      if (!matcher) return std::nullopt;
      out.emplace(HeaderMatcher(std::move(name), Kind::kValue));
      out->value_ = std::move(matcher);
      break;
    }
    case Proto::kRangeMatch:
      if (config.range_match().start() >= config.range_match().end()) {
        errors.add(childPath(path, "range_match"), "start must be less than end");
        return std::nullopt;
      }
      out.emplace(HeaderMatcher(std::move(name), Kind::kRange));
      out->range_start_ = config.range_match().start();
      out->range_end_ = config.range_match().end();
      break;
    case Proto::kPresentMatch:
      out.emplace(HeaderMatcher(std::move(name), Kind::kPresent));
      out->present_ = config.present_match();
      break;
    case Proto::HEADER_MATCH_SPECIFIER_NOT_SET:
      // No specifier: Envoy matches on presence.
      out.emplace(HeaderMatcher(std::move(name), Kind::kPresent));
      break;
  }
#pragma GCC diagnostic pop
  out->invert_ = config.invert_match();
  out->treat_missing_as_empty_ = config.treat_missing_header_as_empty();
  return out;
}

bool HeaderMatcher::matchesValue(std::string_view value) const {
  switch (kind_) {
    case Kind::kValue:
      return value_->match(value);
    case Kind::kRange: {
      const auto number = parseInt64(value);
      return number && *number >= range_start_ && *number < range_end_;
    }
    case Kind::kPresent:
      break;
  }
  return false;
}

bool HeaderMatcher::matches(const RequestView& request) const {
  std::string storage;
  const std::optional<std::string_view> value = requestHeaderValue(request, name_, storage);
  if (kind_ == Kind::kPresent) return (value.has_value() == present_) != invert_;
  if (!value && !treat_missing_as_empty_) return invert_;
  return matchesValue(value.value_or(std::string_view())) != invert_;
}

// ---- QueryParameterMatcher ----

std::optional<QueryParameterMatcher> QueryParameterMatcher::build(
    const envoy::config::route::v3::QueryParameterMatcher& config, std::string_view path, config::ErrorList& errors) {
  using Proto = envoy::config::route::v3::QueryParameterMatcher;
  if (config.name().empty()) {
    errors.add(childPath(path, "name"), "must not be empty");
    return std::nullopt;
  }
  QueryParameterMatcher out(config.name());
  if (config.query_parameter_match_specifier_case() == Proto::kStringMatch) {
    out.value_ = StringMatcher::build(config.string_match(), childPath(path, "string_match"), errors);
    if (!out.value_) return std::nullopt;
  }
  // present_match (true or false) and no specifier both mean "present", as in Envoy.
  return out;
}

bool QueryParameterMatcher::matches(std::string_view path) const {
  const auto value = findQueryParameter(path, name_);
  if (!value) return false;
  return !value_ || value_->match(*value);
}

}  // namespace sluice::router
