#include "router/regex.h"

namespace sluice::router {

std::unique_ptr<const re2::RE2> compileRegex(const envoy::type::matcher::v3::RegexMatcher& matcher,
                                             std::string_view path, config::ErrorList& errors) {
  const std::string regex_path = config::childPath(path, "regex");
  if (matcher.regex().empty()) {
    errors.add(regex_path, "must not be empty");
    return nullptr;
  }
  int max_program_size = kDefaultMaxRegexProgramSize;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (matcher.has_google_re2() && matcher.google_re2().has_max_program_size()) {
    max_program_size = static_cast<int>(matcher.google_re2().max_program_size().value());
  }
#pragma GCC diagnostic pop
  auto regex = std::make_unique<const re2::RE2>(matcher.regex(), re2::RE2::Quiet);
  if (!regex->ok()) {
    errors.add(regex_path, "invalid RE2 pattern: " + regex->error());
    return nullptr;
  }
  if (regex->ProgramSize() > max_program_size) {
    errors.add(regex_path, "RE2 program size of " + std::to_string(regex->ProgramSize()) + " is over the limit of " +
                               std::to_string(max_program_size) + "; simplify the pattern");
    return nullptr;
  }
  return regex;
}

std::unique_ptr<const RegexSubstitution> RegexSubstitution::build(
    const envoy::type::matcher::v3::RegexMatchAndSubstitute& config, std::string_view path, config::ErrorList& errors) {
  auto pattern = compileRegex(config.pattern(), config::childPath(path, "pattern"), errors);
  if (!pattern) return nullptr;
  std::string why;
  if (!pattern->CheckRewriteString(config.substitution(), &why)) {
    errors.add(config::childPath(path, "substitution"), "invalid substitution: " + why);
    return nullptr;
  }
  return std::unique_ptr<const RegexSubstitution>(new RegexSubstitution(std::move(pattern), config.substitution()));
}

std::string RegexSubstitution::replaceAll(std::string_view input) const {
  std::string out(input);
  re2::RE2::GlobalReplace(&out, *pattern_, substitution_);
  return out;
}

}  // namespace sluice::router
