#include "http/http1_parser.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace sluice::http::http1 {
namespace {

constexpr size_t npos = std::string_view::npos;

// RFC 9112 2.2 asks servers to skip "at least one" empty line before a request
// line; a few cover clients that send CRLF after a body. More is not a client.
constexpr size_t kMaxLeadingEmptyLines = 4;

constexpr uint8_t kTchar = 1;       // RFC 9110 5.6.2 token characters
constexpr uint8_t kFieldChar = 2;   // field-vchar, SP, HTAB (RFC 9110 5.5): no CTL but HTAB
constexpr uint8_t kTargetChar = 4;  // visible ASCII: no CTL, SP, DEL or non-ASCII byte

constexpr std::array<uint8_t, 256> kCharClass = [] {
  std::array<uint8_t, 256> table{};
  constexpr std::string_view kTokenSymbols = "!#$%&'*+-.^_`|~";
  for (int c = 0; c < 256; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    uint8_t bits = 0;
    if (alnum || (c < 128 && kTokenSymbols.find(static_cast<char>(c)) != npos)) bits |= kTchar;
    if (c == '\t' || (c >= 0x20 && c != 0x7f)) bits |= kFieldChar;
    if (c > 0x20 && c < 0x7f) bits |= kTargetChar;
    table[static_cast<size_t>(c)] = bits;
  }
  return table;
}();

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Index of the first byte of `s` outside `char_class`, or npos.
size_t firstNotIn(std::string_view s, uint8_t char_class) {
  for (size_t i = 0; i < s.size(); ++i) {
    if ((kCharClass[static_cast<unsigned char>(s[i])] & char_class) == 0) return i;
  }
  return npos;
}

// Why a line is invalid; status 0 means it is not.
struct Failure {
  int status = 0;
  std::string_view detail;
  explicit operator bool() const { return status != 0; }
};

const Failure kMalformed{400, details::kCodecError};

HeadResult errorResult(Failure f) { return {ParseStatus::Error, 0, f.status, f.detail}; }

// A bad byte in a name or value: a CR that does not end a line is a framing
// error (bare CR), anything else an invalid character.
Failure badByte(char c) { return c == '\r' ? kMalformed : Failure{400, details::kInvalidCharacters}; }

size_t limitEnd(size_t start, const Limits& limits) {
  return limits.max_header_bytes > npos - start ? npos : start + limits.max_header_bytes;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether `s` matches the start of `pattern`, where '#' stands for any digit.
bool matchesPrefix(std::string_view s, std::string_view pattern) {
  if (s.size() > pattern.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (pattern[i] == '#' ? !isDigit(s[i]) : s[i] != pattern[i]) return false;
  }
  return true;
}

constexpr std::string_view kVersionPattern = "HTTP/#.#";

// `version` is a complete "HTTP/" DIGIT "." DIGIT; only 1.0 and 1.1 are spoken.
Failure checkVersion(std::string_view version, int& minor) {
  if (version.size() != kVersionPattern.size() || !matchesPrefix(version, kVersionPattern)) return kMalformed;
  if (version[5] != '1' || version[7] > '1') return {505, details::kUnsupportedVersion};
  minor = version[7] - '0';
  return {};
}

// ---- Field lines (RFC 9112 5) ----

Failure checkFieldValue(std::string_view value) {
  const size_t bad = firstNotIn(value, kFieldChar);
  return bad == npos ? Failure{} : badByte(value[bad]);
}

// Checks the name, up to the colon if any. The partial-line check makes the
// same calls in the same order, so feeding a line in pieces finds the same
// error as feeding it whole.
Failure checkFieldName(std::string_view line, size_t colon, const Limits& limits) {
  const std::string_view name = line.substr(0, colon);
  const size_t bad = firstNotIn(name, kTchar);  // also whitespace before the colon
  if (bad != npos) return badByte(name[bad]);
  if (colon == npos) return {};
  if (name.empty()) return kMalformed;
  if (limits.headers_with_underscores == Limits::Underscores::RejectRequest && name.find('_') != npos) {
    return {400, details::kUnexpectedUnderscore};
  }
  return {};
}

// One complete field line, CRLF removed. Adds it to `out` unless dropped.
Failure parseFieldLine(std::string_view line, const Limits& limits, HeaderMap& out) {
  // A line starting with whitespace is obs-fold (RFC 9112 5.2), or whitespace
  // between the start line and the first field (RFC 9112 2.2): both rejected.
  if (line.front() == ' ' || line.front() == '\t') return kMalformed;
  const size_t colon = line.find(':');
  if (Failure f = checkFieldName(line, colon, limits)) return f;
  if (colon == npos) return kMalformed;
  const std::string_view value = trimOws(line.substr(colon + 1));
  if (Failure f = checkFieldValue(value)) return f;
  const std::string_view name = line.substr(0, colon);
  if (limits.headers_with_underscores == Limits::Underscores::DropHeader && name.find('_') != npos) return {};
  out.add(name, value);
  return {};
}

// The start of a field line whose LF has not arrived (may end in the CR).
Failure checkPartialFieldLine(std::string_view part, const Limits& limits) {
  if (part.empty()) return {};
  if (part.front() == ' ' || part.front() == '\t') return kMalformed;
  if (part.back() == '\r') part.remove_suffix(1);
  const size_t colon = part.find(':');
  if (Failure f = checkFieldName(part, colon, limits)) return f;
  return colon == npos ? Failure{} : checkFieldValue(part.substr(colon + 1));
}

// Finds the LF ending the line at `pos`, looking no further than `window`.
size_t findLf(std::string_view data, size_t pos, size_t window) {
  if (pos >= window) return npos;
  const void* lf = std::memchr(data.data() + pos, '\n', window - pos);
  return lf == nullptr ? npos : static_cast<size_t>(static_cast<const char*>(lf) - data.data());
}

// Field lines from data[pos] through the empty line that ends them. The head
// being limited started at data[start].
HeadResult parseFieldSection(std::string_view data, size_t start, size_t pos, const Limits& limits, HeaderMap& out) {
  const size_t limit_end = limitEnd(start, limits);
  const size_t window = std::min(data.size(), limit_end);
  uint32_t count = 0;
  while (true) {
    const size_t lf = findLf(data, pos, window);
    if (lf == npos) {
      if (Failure f = checkPartialFieldLine(data.substr(pos, window - pos), limits)) return errorResult(f);
      if (data.size() >= limit_end) return errorResult({431, details::kHeadersTooLarge});
      return {};
    }
    std::string_view line = data.substr(pos, lf - pos);
    if (line.empty() || line.back() != '\r') return errorResult(kMalformed);  // bare LF
    line.remove_suffix(1);
    pos = lf + 1;
    if (line.empty()) return {ParseStatus::Complete, pos, 0, {}};
    if (Failure f = parseFieldLine(line, limits, out)) return errorResult(f);
    if (++count > limits.max_headers_count) return errorResult({431, details::kTooManyHeaders});
  }
}

// Parses the start line ending at the first LF after `start`, then the fields.
// `Line` is the head type's start-line parser and `Partial` its prefix check.
template <typename Head, typename Line, typename Partial>
HeadResult parseHead(std::string_view data, size_t start, const Limits& limits, Head& out, Line parse_line,
                     Partial check_partial) {
  const size_t limit_end = limitEnd(start, limits);
  const size_t window = std::min(data.size(), limit_end);
  const size_t lf = findLf(data, start, window);
  if (lf == npos) {
    if (Failure f = check_partial(data.substr(start, window - start))) return errorResult(f);
    if (data.size() >= limit_end) return errorResult({431, details::kHeadersTooLarge});
    return {};
  }
  std::string_view line = data.substr(start, lf - start);
  if (line.empty() || line.back() != '\r') return errorResult(kMalformed);  // bare LF
  line.remove_suffix(1);
  if (Failure f = parse_line(line, out)) return errorResult(f);
  return parseFieldSection(data, start, lf + 1, limits, out.headers);
}

// ---- Request line (RFC 9112 3) ----

bool isAuthorityForm(std::string_view target) {
  const size_t colon = target.rfind(':');
  if (colon == npos || colon == 0) return false;
  const std::string_view host = target.substr(0, colon);
  const std::string_view port = target.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (!isDigit(c)) return false;
  }
  if (host.find_first_of("/?#@") != npos) return false;
  if (host.front() == '[') return host.size() > 2 && host.back() == ']' && host.find(']') == host.size() - 1;
  return host.find_first_of(":[]") == npos;
}

bool isAbsoluteForm(std::string_view target) {
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":" (RFC 3986 3.1)
  const size_t colon = target.find(':');
  if (colon == npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    const char c = target[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && (i == 0 || (!isDigit(c) && c != '+' && c != '-' && c != '.'))) return false;
  }
  // An HTTP request names a host: "//" and a non-empty authority follow the
  // scheme (RFC 9110 4.2.1, and Envoy's URL check). "GET example.com:80" is a
  // URI with scheme "example.com", but no request anyone means.
  const std::string_view rest = target.substr(colon + 1);
  return rest.size() > 2 && rest.substr(0, 2) == "//" && rest.find_first_of("/?#", 2) != 2;
}

// RFC 9112 3.2: "*" is for OPTIONS only, CONNECT takes host:port only, every
// other request an origin-form or absolute-form target.
Failure checkTargetForm(std::string_view method, std::string_view target) {
  const Failure invalid{400, details::kInvalidUrl};
  // A fragment is never part of a request-target (RFC 9112 3.2; Envoy rejects it).
  if (target.find('#') != npos) return invalid;
  if (target == "*") return method == "OPTIONS" ? Failure{} : invalid;
  if (method == "CONNECT") return isAuthorityForm(target) ? Failure{} : invalid;
  if (target.front() == '/' || isAbsoluteForm(target)) return {};
  return invalid;
}

Failure checkTargetChars(std::string_view target) {
  const size_t bad = firstNotIn(target, kTargetChar);
  if (bad == npos) return {};
  return target[bad] == '\r' ? kMalformed : Failure{400, details::kInvalidUrl};
}

// method SP request-target SP HTTP-version, CRLF removed; single spaces only.
Failure parseRequestLine(std::string_view line, RequestHead& out) {
  const size_t sp1 = line.find(' ');
  if (sp1 == npos || sp1 == 0) return kMalformed;
  const std::string_view method = line.substr(0, sp1);
  if (firstNotIn(method, kTchar) != npos) return kMalformed;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == npos || sp2 == sp1 + 1) return kMalformed;  // no version (HTTP/0.9), or two spaces
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (Failure f = checkTargetChars(target)) return f;
  if (Failure f = checkVersion(line.substr(sp2 + 1), out.version_minor)) return f;
  if (Failure f = checkTargetForm(method, target)) return f;
  out.method.assign(method);
  out.target.assign(target);
  return {};
}

Failure checkPartialRequestLine(std::string_view part) {
  if (!part.empty() && part.back() == '\r') part.remove_suffix(1);
  const size_t sp1 = part.find(' ');
  if (sp1 == 0 || firstNotIn(part.substr(0, sp1), kTchar) != npos) return kMalformed;
  if (sp1 == npos) return {};
  const std::string_view rest = part.substr(sp1 + 1);
  const size_t sp2 = rest.find(' ');
  if (sp2 == 0) return kMalformed;
  if (Failure f = checkTargetChars(rest.substr(0, sp2))) return f;
  if (sp2 != npos && !matchesPrefix(rest.substr(sp2 + 1), kVersionPattern)) return kMalformed;
  return {};
}

// ---- Status line (RFC 9112 4) ----

constexpr std::string_view kStatusPattern = "HTTP/#.# ###";

// HTTP-version SP 3DIGIT SP [reason], CRLF removed. The SP before an empty
// reason may be missing: some servers omit it, and nothing is ambiguous.
Failure parseStatusLine(std::string_view line, ResponseHead& out) {
  if (Failure f = checkVersion(line.substr(0, kVersionPattern.size()), out.version_minor)) return f;
  if (line.size() < kStatusPattern.size() || !matchesPrefix(line.substr(0, kStatusPattern.size()), kStatusPattern) ||
      line[9] == '0') {
    return kMalformed;
  }
  std::string_view reason;
  if (line.size() > kStatusPattern.size()) {
    if (line[kStatusPattern.size()] != ' ') return kMalformed;
    reason = line.substr(kStatusPattern.size() + 1);
    if (Failure f = checkFieldValue(reason)) return f;
  }
  out.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  out.reason.assign(reason);
  return {};
}

Failure checkPartialStatusLine(std::string_view part) {
  if (!part.empty() && part.back() == '\r') part.remove_suffix(1);
  const std::string_view fixed = part.substr(0, kStatusPattern.size());
  if (fixed.size() >= kVersionPattern.size()) {
    int minor = 0;
    if (Failure f = checkVersion(fixed.substr(0, kVersionPattern.size()), minor)) return f;
  }
  if (!matchesPrefix(fixed, kStatusPattern) || (fixed.size() > 9 && fixed[9] == '0')) return kMalformed;
  if (part.size() > kStatusPattern.size()) {
    if (part[kStatusPattern.size()] != ' ') return kMalformed;
    return checkFieldValue(part.substr(kStatusPattern.size() + 1));
  }
  return {};
}

}  // namespace

void RequestHead::clear() {
  method.clear();
  target.clear();
  version_minor = 1;
  headers.clear();
}

void ResponseHead::clear() {
  status = 0;
  reason.clear();
  version_minor = 1;
  headers.clear();
}

HeadResult parseRequestHead(std::string_view data, const Limits& limits, RequestHead& out) {
  out.clear();
  size_t start = 0;
  for (size_t empty_lines = 0; start < data.size() && (data[start] == '\r' || data[start] == '\n'); ++empty_lines) {
    if (data[start] == '\n') return errorResult(kMalformed);  // bare LF
    if (start + 1 == data.size()) return {};
    if (data[start + 1] != '\n' || empty_lines == kMaxLeadingEmptyLines) return errorResult(kMalformed);
    start += 2;
  }
  const HeadResult result = parseHead(data, start, limits, out, parseRequestLine, checkPartialRequestLine);
  // Two Host lines name two authorities; hops that picked different ones would
  // route the same request differently (RFC 9112 3.2: MUST answer 400).
  if (result.status == ParseStatus::Complete && out.headers.count("host") > 1) {
    return errorResult({400, details::kMultipleHosts});
  }
  return result;
}

HeadResult parseResponseHead(std::string_view data, const Limits& limits, ResponseHead& out) {
  out.clear();
  HeadResult result = parseHead(data, 0, limits, out, parseStatusLine, checkPartialStatusLine);
  if (result.status == ParseStatus::Error) result.error_status = 502;
  return result;
}

HeadResult parseTrailerSection(std::string_view data, const Limits& limits, HeaderMap& out) {
  return parseFieldSection(data, 0, 0, limits, out);
}

}  // namespace sluice::http::http1
