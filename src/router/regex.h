// RE2 compilation for Envoy's `RegexMatcher` and `RegexMatchAndSubstitute`,
// with Envoy's checks: the pattern must compile, and its program size must not
// exceed the limit (google_re2.max_program_size, else Envoy's default of 100).
// Built on the main thread; the compiled RE2 objects are const and safe to use
// from every worker.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>

#include "config/config_error.h"
#include "envoy/type/matcher/v3/regex.pb.h"

namespace sluice::router {

// Envoy's default for runtime key re2.max_program_size.error_level.
inline constexpr int kDefaultMaxRegexProgramSize = 100;

// Compiles `matcher` (found at `path`); on failure adds an error at
// `<path>.regex` and returns nullptr.
std::unique_ptr<const re2::RE2> compileRegex(const envoy::type::matcher::v3::RegexMatcher& matcher,
                                             std::string_view path, config::ErrorList& errors);

// A compiled RegexMatchAndSubstitute: every non-overlapping match of the
// pattern is replaced by the substitution (which may use \0-\9).
class RegexSubstitution {
 public:
  // nullptr (with errors added) when the pattern or the substitution is invalid.
  static std::unique_ptr<const RegexSubstitution> build(const envoy::type::matcher::v3::RegexMatchAndSubstitute& config,
                                                        std::string_view path, config::ErrorList& errors);

  std::string replaceAll(std::string_view input) const;

 private:
  RegexSubstitution(std::unique_ptr<const re2::RE2> pattern, std::string substitution)
      : pattern_(std::move(pattern)), substitution_(std::move(substitution)) {}

  std::unique_ptr<const re2::RE2> pattern_;
  std::string substitution_;
};

}  // namespace sluice::router
