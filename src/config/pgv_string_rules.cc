#include "config/pgv_string_rules.h"

#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <unordered_map>

namespace sluice::config::pgv {
namespace {

constexpr auto npos = std::string_view::npos;

// Character classes by value, independent of the C locale.
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Unicode code points in UTF-8 text: the bytes that do not continue a sequence.
size_t codePoints(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Compiled patterns, keyed by their source. The patterns come from the
// compiled-in protos, so the map stays small. Main thread only.
const re2::RE2& compiledPattern(const std::string& pattern) {
  static std::unordered_map<std::string, std::unique_ptr<re2::RE2>> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    it = cache.emplace(pattern, std::make_unique<re2::RE2>(pattern, re2::RE2::Quiet)).first;
  }
  return *it->second;
}

// PGV's `pattern`: an unanchored RE2 search, as Go's regexp.MatchString.
void checkPattern(std::string_view value, const std::string& pattern, const std::string& path, ErrorList& errors) {
  const auto& re = compiledPattern(pattern);
  if (!re.ok()) {
    errors.add(path, "has a rule pattern " + quote(pattern) + " that does not compile: " + re.error());
  } else if (!re2::RE2::PartialMatch(value, re)) {
    errors.add(path, "must match the pattern " + quote(pattern));
  }
}

// RFC 1034 host name as PGV checks it: dot-separated labels of letters, digits
// and inner hyphens, each 1-63 bytes, at most 253 bytes, one trailing dot allowed.
bool isHostname(std::string_view host) {
  if (host.size() > 253) return false;
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  while (true) {
    const size_t dot = host.find('.');
    const auto label = host.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return isAlpha(c) || isDigit(c) || c == '-'; })) {
      return false;
    }
    if (dot == npos) return true;
    host.remove_prefix(dot + 1);
  }
}

bool isIp(int family, std::string_view text) {
  if (text.find('\0') != npos) return false;  // inet_pton would stop there
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(family, std::string(text).c_str(), address) == 1;
}
bool isIpv4(std::string_view text) { return isIp(AF_INET, text); }
bool isIpv6(std::string_view text) { return isIp(AF_INET6, text); }

// `local@domain` (or `Name <local@domain>`, which Go's net/mail, used by PGV,
// accepts): a dot-atom local part of at most 64 bytes, a host name domain.
bool isEmail(std::string_view text) {
  if (!text.empty() && text.back() == '>') {
    const size_t open = text.rfind('<');
    if (open == npos) return false;
    text = text.substr(open + 1, text.size() - open - 2);
  }
  if (text.size() > 254) return false;
  const size_t at = text.rfind('@');
  if (at == npos) return false;
  const auto local = text.substr(0, at);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' || local.find("..") != npos) {
    return false;
  }
  constexpr std::string_view kAtomSpecials = "!#$%&'*+-/=?^_`{|}~.";
  const bool atoms = std::all_of(local.begin(), local.end(),
                                 [&](char c) { return isAlpha(c) || isDigit(c) || kAtomSpecials.find(c) != npos; });
  return atoms && isHostname(text.substr(at + 1));
}

// RFC 3986: every character is unreserved, a sub-delimiter, one of `extra`,
// or part of a %XX escape.
bool isUriText(std::string_view text, std::string_view extra) {
  constexpr std::string_view kUnreservedMarks = "-._~";
  constexpr std::string_view kSubDelims = "!$&'()*+,;=";
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (text.size() - i < 3 || !isHex(text[i + 1]) || !isHex(text[i + 2])) return false;
      i += 2;
    } else if (!isAlpha(c) && !isDigit(c) && kUnreservedMarks.find(c) == npos && kSubDelims.find(c) == npos &&
               extra.find(c) == npos) {
      return false;
    }
  }
  return true;
}

bool isScheme(std::string_view scheme) {
  return !scheme.empty() && isAlpha(scheme.front()) && std::all_of(scheme.begin(), scheme.end(), [](char c) {
    return isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.';
  });
}

// RFC 3986 authority: [userinfo@]host[:port], host a name or a [literal].
bool isAuthority(std::string_view authority) {
  if (const size_t at = authority.rfind('@'); at != npos) {
    if (!isUriText(authority.substr(0, at), ":")) return false;
    authority.remove_prefix(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == npos) return false;
    const auto literal = authority.substr(1, close - 1);
    const bool future = !literal.empty() && (literal.front() == 'v' || literal.front() == 'V');  // IPvFuture
    if (future ? !isUriText(literal, ":") : !isIpv6(literal)) return false;
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return false;
  } else {
    const size_t colon = authority.find(':');
    if (!isUriText(authority.substr(0, colon), "")) return false;
    authority.remove_prefix(colon == npos ? authority.size() : colon);
  }
  if (authority.empty()) return true;
  authority.remove_prefix(1);  // ':'
  return std::all_of(authority.begin(), authority.end(), isDigit);
}

// RFC 3986 URI-reference; with `absolute`, a URI (a scheme is required).
bool isUriReference(std::string_view text, bool absolute) {
  const size_t colon = text.find(':');
  const size_t delimiter = text.find_first_of("/?#");
  if (colon != npos && (delimiter == npos || colon < delimiter)) {
    // A relative reference may not have ':' in its first segment either.
    if (!isScheme(text.substr(0, colon))) return false;
    text.remove_prefix(colon + 1);
  } else if (absolute) {
    return false;
  }
  if (const size_t hash = text.find('#'); hash != npos) {
    if (!isUriText(text.substr(hash + 1), ":@/?")) return false;
    text = text.substr(0, hash);
  }
  if (const size_t question = text.find('?'); question != npos) {
    if (!isUriText(text.substr(question + 1), ":@/?")) return false;
    text = text.substr(0, question);
  }
  if (text.starts_with("//")) {
    text.remove_prefix(2);
    const size_t slash = text.find('/');
    if (!isAuthority(text.substr(0, slash))) return false;
    text.remove_prefix(slash == npos ? text.size() : slash);
  }
  return isUriText(text, ":@/");
}

// 8-4-4-4-12 hexadecimal digits (RFC 4122 text form), any case.
bool isUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen ? text[i] != '-' : !isHex(text[i])) return false;
  }
  return true;
}

// PGV's strict HTTP_HEADER_VALUE: no control characters but horizontal tab.
bool isStrictHeaderValue(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x08 || (byte >= 0x0A && byte <= 0x1F) || byte == 0x7F;
  });
}

// PGV's non-strict header check, for names and values alike.
bool hasNulCrLf(std::string_view text) { return text.find_first_of(std::string_view("\0\r\n", 3)) != npos; }

void checkKnownRegex(std::string_view value, const validate::StringRules& rules, const std::string& path,
                     ErrorList& errors) {
  const auto regex = rules.well_known_regex();
  if (regex != validate::HTTP_HEADER_NAME && regex != validate::HTTP_HEADER_VALUE) return;
  if (!rules.strict()) {
    if (hasNulCrLf(value)) errors.add(path, "must not contain NUL, CR or LF characters");
  } else if (regex == validate::HTTP_HEADER_NAME) {
    // PGV's pattern verbatim, its `+-.` range (which admits ',') included.
    static const std::string kHeaderName = R"(^:?[0-9a-zA-Z!#$%&'*+-.^_|~\x60]+$)";
    if (!re2::RE2::FullMatch(value, compiledPattern(kHeaderName))) {
      errors.add(path, "must be a valid HTTP header name");
    }
  } else if (!isStrictHeaderValue(value)) {
    errors.add(path, "must be a valid HTTP header value (no control characters)");
  }
}

void checkWellKnownString(std::string_view value, const validate::StringRules& rules, const std::string& path,
                          ErrorList& errors) {
  using Rules = validate::StringRules;
  bool valid = true;
  const char* what = "";
  switch (rules.well_known_case()) {
    case Rules::kEmail:
      valid = !rules.email() || isEmail(value);
      what = "email address";
      break;
    case Rules::kHostname:
      valid = !rules.hostname() || isHostname(value);
      what = "hostname";
      break;
    case Rules::kIp:
      valid = !rules.ip() || isIpv4(value) || isIpv6(value);
      what = "IP address";
      break;
    case Rules::kIpv4:
      valid = !rules.ipv4() || isIpv4(value);
      what = "IPv4 address";
      break;
    case Rules::kIpv6:
      valid = !rules.ipv6() || isIpv6(value);
      what = "IPv6 address";
      break;
    case Rules::kUri:
      valid = !rules.uri() || isUriReference(value, true);
      what = "absolute URI";
      break;
    case Rules::kUriRef:
      valid = !rules.uri_ref() || isUriReference(value, false);
      what = "URI reference";
      break;
    case Rules::kAddress:
      valid = !rules.address() || isHostname(value) || isIpv4(value) || isIpv6(value);
      what = "hostname or IP address";
      break;
    case Rules::kUuid:
      valid = !rules.uuid() || isUuid(value);
      what = "UUID";
      break;
    case Rules::kWellKnownRegex:
      checkKnownRegex(value, rules, path, errors);
      break;
    case Rules::WELL_KNOWN_NOT_SET:
      break;
  }
  if (!valid) errors.add(path, std::string("must be a valid ") + what);
}

// The rules `string` and `bytes` have in common, under the same names.
template <typename Rules>
void checkCommon(std::string_view value, const Rules& rules, const std::string& path, ErrorList& errors) {
  if (rules.has_const_() && value != rules.const_()) errors.add(path, "must equal " + quote(rules.const_()));
  if (rules.has_pattern()) checkPattern(value, rules.pattern(), path, errors);
  if (rules.has_prefix() && !value.starts_with(rules.prefix())) {
    errors.add(path, "must start with " + quote(rules.prefix()));
  }
  if (rules.has_suffix() && !value.ends_with(rules.suffix())) {
    errors.add(path, "must end with " + quote(rules.suffix()));
  }
  if (rules.has_contains() && value.find(rules.contains()) == npos) {
    errors.add(path, "must contain " + quote(rules.contains()));
  }
  const auto& in = rules.in();
  if (!in.empty() && std::find(in.begin(), in.end(), value) == in.end()) {
    errors.add(path, "must be one of " + bracketed(in, quote));
  }
  const auto& notIn = rules.not_in();
  if (std::find(notIn.begin(), notIn.end(), value) != notIn.end()) {
    errors.add(path, "must not be one of " + bracketed(notIn, quote));
  }
}

void checkLength(size_t length, const char* unit, bool hasExact, uint64_t exact, bool hasMin, uint64_t min, bool hasMax,
                 uint64_t max, const std::string& path, ErrorList& errors) {
  const std::string suffix = std::string(" ") + unit + " long";
  if (hasExact && length != exact) errors.add(path, "must be exactly " + std::to_string(exact) + suffix);
  if (hasMin && length < min) errors.add(path, "must be at least " + std::to_string(min) + suffix);
  if (hasMax && length > max) errors.add(path, "must be at most " + std::to_string(max) + suffix);
}

}  // namespace

std::string quote(std::string_view value) {
  std::string out = "\"";
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7F) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

void checkString(std::string_view value, const validate::StringRules& rules, const std::string& path,
                 ErrorList& errors) {
  checkLength(codePoints(value), "characters", rules.has_len(), rules.len(), rules.has_min_len(), rules.min_len(),
              rules.has_max_len(), rules.max_len(), path, errors);
  checkLength(value.size(), "bytes", rules.has_len_bytes(), rules.len_bytes(), rules.has_min_bytes(), rules.min_bytes(),
              rules.has_max_bytes(), rules.max_bytes(), path, errors);
  checkCommon(value, rules, path, errors);
  if (rules.has_not_contains() && value.find(rules.not_contains()) != npos) {
    errors.add(path, "must not contain " + quote(rules.not_contains()));
  }
  checkWellKnownString(value, rules, path, errors);
}

void checkBytes(std::string_view value, const validate::BytesRules& rules, const std::string& path, ErrorList& errors) {
  checkLength(value.size(), "bytes", rules.has_len(), rules.len(), rules.has_min_len(), rules.min_len(),
              rules.has_max_len(), rules.max_len(), path, errors);
  checkCommon(value, rules, path, errors);
  using Rules = validate::BytesRules;
  const size_t size = value.size();
  switch (rules.well_known_case()) {
    case Rules::kIp:
      if (rules.ip() && size != 4 && size != 16) errors.add(path, "must be an IP address (4 or 16 bytes)");
      break;
    case Rules::kIpv4:
      if (rules.ipv4() && size != 4) errors.add(path, "must be an IPv4 address (4 bytes)");
      break;
    case Rules::kIpv6:
      if (rules.ipv6() && size != 16) errors.add(path, "must be an IPv6 address (16 bytes)");
      break;
    case Rules::WELL_KNOWN_NOT_SET:
      break;
  }
}

}  // namespace sluice::config::pgv
