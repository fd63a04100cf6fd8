#include "accesslog/formatter.h"

#include "config/data_source.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>

namespace sluice::accesslog {

const std::string_view kDefaultFormat =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% "
    "%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
    "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" "
    "\"%UPSTREAM_HOST%\"\n";

namespace {

enum class Command : uint8_t {
  kStartTime,
  kRequestHeader,
  kResponseHeader,
  kProtocol,
  kResponseCode,
  kResponseFlags,
  kResponseCodeDetails,
  kBytesReceived,
  kBytesSent,
  kDuration,
  kRequestDuration,
  kResponseDuration,
  kUpstreamHost,
  kUpstreamCluster,
  kUpstreamLocalAddress,
  kUpstreamTransportFailureReason,
  kDownstreamRemoteAddress,
  kDownstreamRemoteAddressWithoutPort,
  kDownstreamDirectRemoteAddress,
  kDownstreamDirectRemoteAddressWithoutPort,
  kDownstreamLocalAddress,
  kRouteName,
  kConnectionId,
  kHostname,
  kDownstreamTlsVersion,
  kDownstreamTlsCipher,
  kRequestedServerName,
  kDownstreamPeerSubject,
  kDownstreamPeerUriSan,
};

// Envoy's CommandSyntaxChecker rules.
enum Syntax : uint8_t {
  kCommandOnly = 0,
  kParamsRequired = 1,
  kParamsOptional = 2,
  kLengthAllowed = 4,
};

struct CommandInfo {
  std::string_view name;
  Command command;
  uint8_t syntax;
};

constexpr CommandInfo kCommands[] = {
    {"START_TIME", Command::kStartTime, kParamsOptional},
    {"REQ", Command::kRequestHeader, kParamsRequired | kLengthAllowed},
    {"RESP", Command::kResponseHeader, kParamsRequired | kLengthAllowed},
    {"PROTOCOL", Command::kProtocol, kCommandOnly},
    {"RESPONSE_CODE", Command::kResponseCode, kCommandOnly},
    {"RESPONSE_FLAGS", Command::kResponseFlags, kCommandOnly},
    {"RESPONSE_CODE_DETAILS", Command::kResponseCodeDetails, kParamsOptional},
    {"BYTES_RECEIVED", Command::kBytesReceived, kCommandOnly},
    {"BYTES_SENT", Command::kBytesSent, kCommandOnly},
    {"DURATION", Command::kDuration, kCommandOnly},
    {"REQUEST_DURATION", Command::kRequestDuration, kCommandOnly},
    {"RESPONSE_DURATION", Command::kResponseDuration, kCommandOnly},
    {"UPSTREAM_HOST", Command::kUpstreamHost, kCommandOnly},
    {"UPSTREAM_CLUSTER", Command::kUpstreamCluster, kCommandOnly},
    {"UPSTREAM_LOCAL_ADDRESS", Command::kUpstreamLocalAddress, kCommandOnly},
    {"UPSTREAM_TRANSPORT_FAILURE_REASON", Command::kUpstreamTransportFailureReason, kCommandOnly},
    {"DOWNSTREAM_REMOTE_ADDRESS", Command::kDownstreamRemoteAddress, kCommandOnly},
    {"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", Command::kDownstreamRemoteAddressWithoutPort, kCommandOnly},
    {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS", Command::kDownstreamDirectRemoteAddress, kCommandOnly},
    {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT", Command::kDownstreamDirectRemoteAddressWithoutPort, kCommandOnly},
    {"DOWNSTREAM_LOCAL_ADDRESS", Command::kDownstreamLocalAddress, kCommandOnly},
    {"ROUTE_NAME", Command::kRouteName, kCommandOnly},
    {"CONNECTION_ID", Command::kConnectionId, kCommandOnly},
    {"HOSTNAME", Command::kHostname, kCommandOnly},
    {"DOWNSTREAM_TLS_VERSION", Command::kDownstreamTlsVersion, kCommandOnly},
    {"DOWNSTREAM_TLS_CIPHER", Command::kDownstreamTlsCipher, kCommandOnly},
    {"REQUESTED_SERVER_NAME", Command::kRequestedServerName, kCommandOnly},
    {"DOWNSTREAM_PEER_SUBJECT", Command::kDownstreamPeerSubject, kCommandOnly},
    {"DOWNSTREAM_PEER_URI_SAN", Command::kDownstreamPeerUriSan, kCommandOnly},
};

// One piece of a START_TIME format: strftime text, or Envoy's own %s / %Nf.
struct TimePiece {
  enum Kind : uint8_t { kStrftime, kEpochSeconds, kFraction } kind;
  uint8_t digits = 9;  // kFraction
  std::string text;    // kStrftime
};

// A value an operator produced: nothing ("-" in text, null in JSON), a
// number, or text (kept in the caller's scratch buffer or in the stream).
struct Value {
  enum Kind : uint8_t { kNull, kNumber, kString } kind = kNull;
  uint64_t number = 0;
  std::string_view text;
};

std::string hostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

void appendNumber(uint64_t value, std::string& out) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, static_cast<size_t>(end - digits));
}

void appendPadded(uint64_t value, int width, std::string& out) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  for (int n = static_cast<int>(end - digits); n < width; ++n) out += '0';
  out.append(digits, static_cast<size_t>(end - digits));
}

// The address alone, IPv6 without brackets (Envoy's *_WITHOUT_PORT).
void appendAddress(const asio::ip::address& address, std::string& out) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    inet_ntop(AF_INET, bytes.data(), text, sizeof text);
  } else {
    const auto bytes = address.to_v6().to_bytes();
    inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  }
  out += text;
}

// "ip:port", IPv6 in brackets, as Envoy prints addresses.
void appendEndpoint(const asio::ip::address& address, uint16_t port, std::string& out) {
  if (address.is_v6()) out += '[';
  appendAddress(address, out);
  if (address.is_v6()) out += ']';
  out += ':';
  appendNumber(port, out);
}

void appendEndpoint(const asio::ip::tcp::endpoint& endpoint, std::string& out) {
  appendEndpoint(endpoint.address(), endpoint.port(), out);
}

// JSON string body (no quotes). Control characters and bytes that are not
// valid UTF-8 are escaped (the latter as \u00XX, read as Latin-1), so every
// line parses whatever a client sent.
void appendJsonEscaped(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto escapeByte = [&](unsigned char c) {
    out += "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      escapeByte(c);
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // A UTF-8 sequence: copy it whole when well formed.
      size_t length = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
      if (c >= 0xf5) length = 0;
      bool valid = length > 0 && i + length <= text.size();
      for (size_t k = 1; valid && k < length; ++k) {
        valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
      }
      if (valid && length == 3) {
        const auto c1 = static_cast<unsigned char>(text[i + 1]);
        valid = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);  // overlong, surrogates
      } else if (valid && length == 4) {
        const auto c1 = static_cast<unsigned char>(text[i + 1]);
        valid = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
      }
      if (!valid) {
        escapeByte(c);
        continue;
      }
      out.append(text.substr(i, length));
      i += length - 1;
    }
  }
}

uint64_t millisBetween(StreamInfo::Clock::time_point from, StreamInfo::Clock::time_point to) {
  if (to < from) return 0;
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

}  // namespace

struct Formatter::Operator {
  Command command;
  std::string header;       // REQ/RESP: lowercase main header
  std::string alternative;  // REQ/RESP: lowercase alternative header, or empty
  size_t max_length = std::string::npos;
  bool allow_whitespaces = false;  // RESPONSE_CODE_DETAILS(ALLOW_WHITESPACES)
  std::vector<TimePiece> time;     // START_TIME(...); empty: ISO 8601 with milliseconds
  std::string hostname;            // HOSTNAME, read once at load
};

struct Formatter::Piece {
  std::string literal;  // used when !op
  std::optional<Operator> op;
};

struct Formatter::JsonField {
  std::string key;  // JSON-escaped, with quotes and colon: "key":
  enum Kind : uint8_t { kTemplate, kObject, kLiteral } kind = kTemplate;
  std::vector<Piece> pieces;        // kTemplate
  std::vector<JsonField> children;  // kObject
  std::string literal;              // kLiteral: JSON text (numbers, booleans)
};

namespace {

using Operator = Formatter::Operator;
using Piece = Formatter::Piece;
using JsonField = Formatter::JsonField;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// START_TIME(...) argument: strftime text with Envoy's %s and %f / %1f..%9f.
std::vector<TimePiece> parseTimeFormat(std::string_view format) {
  std::vector<TimePiece> pieces;
  std::string text;
  auto flush = [&] {
    if (!text.empty()) pieces.push_back({TimePiece::kStrftime, 0, std::move(text)});
    text.clear();
  };
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) {
      text += format[i];
      continue;
    }
    const char next = format[i + 1];
    if (next == 's') {
      flush();
      pieces.push_back({TimePiece::kEpochSeconds, 0, {}});
      ++i;
    } else if (next == 'f') {
      flush();
      pieces.push_back({TimePiece::kFraction, 9, {}});
      ++i;
    } else if (next >= '1' && next <= '9' && i + 2 < format.size() && format[i + 2] == 'f') {
      flush();
      pieces.push_back({TimePiece::kFraction, static_cast<uint8_t>(next - '0'), {}});
      i += 2;
    } else {
      text += '%';
      text += next;  // a strftime conversion (or %%), kept whole
      ++i;
    }
  }
  flush();
  return pieces;
}

// Checks the parts of one %COMMAND(param):length% against Envoy's syntax rules
// and builds its operator. `error` is set on failure.
std::optional<Operator> makeOperator(std::string_view name, std::optional<std::string_view> param,
                                     std::optional<size_t> length, std::string& error) {
  const auto* info =
      std::find_if(std::begin(kCommands), std::end(kCommands), [&](const CommandInfo& c) { return c.name == name; });
  if (info == std::end(kCommands)) {
    error = "unknown command operator %" + std::string(name) + "% (sluice supports:";
    for (const auto& c : kCommands) error += " " + std::string(c.name);
    error += ")";
    return std::nullopt;
  }
  const std::string shown = "%" + std::string(name) + "%";
  if ((info->syntax & (kParamsRequired | kParamsOptional)) == 0 && param) {
    error = shown + " takes no parameters";
    return std::nullopt;
  }
  if ((info->syntax & kParamsRequired) != 0 && (!param || param->empty())) {
    error = shown + " needs a parameter, e.g. %" + std::string(name) + "(X-REQUEST-ID)%";
    return std::nullopt;
  }
  if ((info->syntax & kLengthAllowed) == 0 && length) {
    error = shown + " takes no length limit";
    return std::nullopt;
  }
  Operator op{info->command, {}, {}, length.value_or(std::string::npos), false, {}, {}};
  switch (info->command) {
    case Command::kRequestHeader:
    case Command::kResponseHeader: {
      const size_t question = param->find('?');
      op.header = lower(param->substr(0, question));
      if (question != std::string_view::npos) {
        const auto alternative = param->substr(question + 1);
        if (alternative.find('?') != std::string_view::npos) {
          error = shown + ": more than one alternative header in '" + std::string(*param) + "'";
          return std::nullopt;
        }
        op.alternative = lower(alternative);
        if (op.alternative.empty()) {
          error = shown + ": empty alternative header in '" + std::string(*param) + "'";
          return std::nullopt;
        }
      }
      if (op.header.empty()) {
        error = shown + ": empty header name in '" + std::string(*param) + "'";
        return std::nullopt;
      }
      break;
    }
    case Command::kStartTime:
      if (param) op.time = parseTimeFormat(*param);
      break;
    case Command::kResponseCodeDetails:
      if (param) {
        if (*param != "ALLOW_WHITESPACES") {
          error = shown + ": unknown parameter '" + std::string(*param) + "' (only ALLOW_WHITESPACES)";
          return std::nullopt;
        }
        op.allow_whitespaces = true;
      }
      break;
    case Command::kHostname:
      op.hostname = hostName();
      break;
    default:
      break;
  }
  return op;
}

bool isCommandChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

// Parses a format string into literal pieces and operators, Envoy's grammar:
// %NAME%, %NAME(param)%, %NAME(param):length%, and %% for a literal '%'.
bool parseTemplate(std::string_view format, std::vector<Piece>& pieces, std::string_view path,
                   config::ErrorList& errors) {
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) pieces.push_back({std::move(literal), std::nullopt});
    literal.clear();
  };
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      literal += format[i];
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '%') {
      literal += '%';
      ++i;
      continue;
    }
    const size_t start = i;
    auto fail = [&](const std::string& why) {
      errors.add(std::string(path),
                 why + " at position " + std::to_string(start) + " of '" + std::string(format) + "'");
      return false;
    };
    size_t j = i + 1;
    while (j < format.size() && isCommandChar(format[j])) ++j;
    const std::string_view name = format.substr(i + 1, j - i - 1);
    if (name.empty()) return fail("'%' starts no command operator (write %% for a literal '%')");
    std::optional<std::string_view> param;
    if (j < format.size() && format[j] == '(') {
      const size_t close = format.find(')', j + 1);
      if (close == std::string_view::npos) return fail("unterminated '(' in %" + std::string(name));
      param = format.substr(j + 1, close - j - 1);
      j = close + 1;
    }
    std::optional<size_t> length;
    if (j < format.size() && format[j] == ':') {
      size_t k = j + 1;
      while (k < format.size() && format[k] >= '0' && format[k] <= '9') ++k;
      size_t value = 0;
      const auto [end, ec] = std::from_chars(format.data() + j + 1, format.data() + k, value);
      if (k == j + 1 || ec != std::errc()) return fail("bad length after %" + std::string(name) + ":");
      length = value;
      j = k;
    }
    if (j >= format.size() || format[j] != '%') {
      return fail("command operator %" + std::string(name) + " is not closed by '%'");
    }
    std::string why;
    auto op = makeOperator(name, param, length, why);
    if (!op) return fail(why);
    flush();
    pieces.push_back({{}, std::move(op)});
    i = j;
  }
  flush();
  return true;
}

std::optional<std::string_view> requestHeader(const LogContext& c, std::string_view name) {
  if (c.request_headers == nullptr) return std::nullopt;
  if (name[0] == ':') {
    if (name == ":method") return c.method.empty() ? std::nullopt : std::optional(c.method);
    if (name == ":path") return c.path.empty() ? std::nullopt : std::optional(c.path);
    if (name == ":authority") return c.request_headers->get("host");
    if (name == ":scheme") return std::string_view(c.info.downstream_tls != nullptr ? "https" : "http");
    return std::nullopt;
  }
  return c.request_headers->get(name);
}

std::optional<std::string_view> responseHeader(const LogContext& c, std::string_view name, std::string& scratch) {
  if (c.response_headers == nullptr) return std::nullopt;
  if (name == ":status") {
    const size_t from = scratch.size();
    appendNumber(static_cast<uint64_t>(c.info.response_code), scratch);
    return std::string_view(scratch).substr(from);
  }
  if (name[0] == ':') return std::nullopt;
  return c.response_headers->get(name);
}

void appendTime(const Operator& op, std::chrono::system_clock::time_point when, std::string& out) {
  const auto since_epoch = when.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count();
  const std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (op.time.empty()) {
    // Envoy's default: ISO 8601 in UTC with milliseconds.
    appendPadded(static_cast<uint64_t>(tm.tm_year + 1900), 4, out);
    out += '-';
    appendPadded(static_cast<uint64_t>(tm.tm_mon + 1), 2, out);
    out += '-';
    appendPadded(static_cast<uint64_t>(tm.tm_mday), 2, out);
    out += 'T';
    appendPadded(static_cast<uint64_t>(tm.tm_hour), 2, out);
    out += ':';
    appendPadded(static_cast<uint64_t>(tm.tm_min), 2, out);
    out += ':';
    appendPadded(static_cast<uint64_t>(tm.tm_sec), 2, out);
    out += '.';
    appendPadded(static_cast<uint64_t>(nanos / 1'000'000), 3, out);
    out += 'Z';
    return;
  }
  for (const auto& piece : op.time) {
    switch (piece.kind) {
      case TimePiece::kEpochSeconds:
        appendNumber(static_cast<uint64_t>(seconds.count()), out);
        break;
      case TimePiece::kFraction: {
        uint64_t value = static_cast<uint64_t>(nanos);
        for (int d = 9; d > piece.digits; --d) value /= 10;
        appendPadded(value, piece.digits, out);
        break;
      }
      case TimePiece::kStrftime: {
        char buffer[256];
        const size_t n = std::strftime(buffer, sizeof buffer, piece.text.c_str(), &tm);
        out.append(buffer, n);
        break;
      }
    }
  }
}

// Evaluates one operator. Text values are appended to `scratch` (or point
// into the stream) and returned as views.
Value evaluate(const Operator& op, const LogContext& c, std::string& scratch) {
  const auto& info = c.info;
  auto text = [&](size_t from) { return Value{Value::kString, 0, std::string_view(scratch).substr(from)}; };
  auto optionalText = [](std::string_view s) { return s.empty() ? Value{} : Value{Value::kString, 0, s}; };
  auto number = [](uint64_t n) { return Value{Value::kNumber, n, {}}; };
  const size_t from = scratch.size();
  switch (op.command) {
    case Command::kStartTime:
      appendTime(op, c.start_time, scratch);
      return text(from);
    case Command::kRequestHeader:
    case Command::kResponseHeader: {
      const bool request = op.command == Command::kRequestHeader;
      auto value = request ? requestHeader(c, op.header) : responseHeader(c, op.header, scratch);
      if (!value && !op.alternative.empty()) {
        value = request ? requestHeader(c, op.alternative) : responseHeader(c, op.alternative, scratch);
      }
      if (!value) return {};
      return Value{Value::kString, 0, value->substr(0, op.max_length)};
    }
    case Command::kProtocol:
      return Value{Value::kString, 0, c.http_minor == 0 ? "HTTP/1.0" : "HTTP/1.1"};
    case Command::kResponseCode:
      return number(static_cast<uint64_t>(std::max(info.response_code, 0)));
    case Command::kResponseFlags:
      appendResponseFlags(info.response_flags, scratch);
      return text(from);
    case Command::kResponseCodeDetails: {
      if (info.response_code_details.empty()) return {};
      if (op.allow_whitespaces) return Value{Value::kString, 0, info.response_code_details};
      scratch += info.response_code_details;
      for (size_t i = from; i < scratch.size(); ++i) {
        if (std::isspace(static_cast<unsigned char>(scratch[i]))) scratch[i] = '_';
      }
      return text(from);
    }
    case Command::kBytesReceived:
      return number(info.bytes_received);
    case Command::kBytesSent:
      return number(info.bytes_sent);
    case Command::kDuration:
      return number(millisBetween(info.start, c.now));
    case Command::kRequestDuration:
      if (info.request_complete == StreamInfo::Clock::time_point()) return {};
      return number(millisBetween(info.start, info.request_complete));
    case Command::kResponseDuration:
      if (info.first_upstream_byte == StreamInfo::Clock::time_point()) return {};
      return number(millisBetween(info.start, info.first_upstream_byte));
    case Command::kUpstreamHost:
      return optionalText(info.upstream_host);
    case Command::kUpstreamCluster:
      return optionalText(info.upstream_cluster);
    case Command::kUpstreamLocalAddress:
      if (info.upstream_local.port() == 0) return {};
      appendEndpoint(info.upstream_local, scratch);
      return text(from);
    case Command::kUpstreamTransportFailureReason: {
      if (info.upstream_connect_errno == 0) return {};
      // Envoy's text for a failed TCP connect, with spaces as '_'.
      scratch += "delayed connect error: ";
      scratch += std::strerror(info.upstream_connect_errno);
      std::replace(scratch.begin() + static_cast<std::ptrdiff_t>(from), scratch.end(), ' ', '_');
      return text(from);
    }
    case Command::kDownstreamRemoteAddress:
      // The trusted client (x-forwarded-for rules); from XFF it has port 0, as in Envoy.
      if (info.downstream_client.from_xff) {
        appendEndpoint(info.downstream_client.address, 0, scratch);
        return text(from);
      }
      [[fallthrough]];
    case Command::kDownstreamDirectRemoteAddress:
      if (info.downstream_remote.port() == 0) return {};
      appendEndpoint(info.downstream_remote, scratch);
      return text(from);
    case Command::kDownstreamRemoteAddressWithoutPort:
      if (info.downstream_client.from_xff) {
        appendAddress(info.downstream_client.address, scratch);
        return text(from);
      }
      [[fallthrough]];
    case Command::kDownstreamDirectRemoteAddressWithoutPort:
      if (info.downstream_remote.port() == 0) return {};
      appendAddress(info.downstream_remote.address(), scratch);
      return text(from);
    case Command::kDownstreamLocalAddress:
      if (info.downstream_local.port() == 0) return {};
      appendEndpoint(info.downstream_local, scratch);
      return text(from);
    case Command::kRouteName:
      return optionalText(info.route_name);
    case Command::kConnectionId:
      return number(info.connection_id);
    case Command::kHostname:
      return optionalText(op.hostname);
    // Plain TCP connections have no session: "-", as Envoy prints.
    case Command::kDownstreamTlsVersion:
      return info.downstream_tls ? optionalText(info.downstream_tls->version) : Value{};
    case Command::kDownstreamTlsCipher:
      return info.downstream_tls ? optionalText(info.downstream_tls->cipher) : Value{};
    case Command::kRequestedServerName:
      return info.downstream_tls ? optionalText(info.downstream_tls->server_name) : Value{};
    case Command::kDownstreamPeerSubject:
      return info.downstream_tls ? optionalText(info.downstream_tls->peer_subject) : Value{};
    case Command::kDownstreamPeerUriSan:
      return info.downstream_tls ? optionalText(info.downstream_tls->peer_uri_san) : Value{};
  }
  return {};
}

// Text of a template: literals and values, "-" (or nothing) for no value.
void appendText(const std::vector<Piece>& pieces, const LogContext& c, bool omit_empty, std::string& out,
                std::string& scratch) {
  for (const auto& piece : pieces) {
    if (!piece.op) {
      out += piece.literal;
      continue;
    }
    scratch.clear();
    const Value v = evaluate(*piece.op, c, scratch);
    switch (v.kind) {
      case Value::kNull:
        if (!omit_empty) out += '-';
        break;
      case Value::kNumber:
        appendNumber(v.number, out);
        break;
      case Value::kString:
        out += v.text;
        break;
    }
  }
}

bool buildJsonFields(const google::protobuf::Struct& object, std::string_view path, std::vector<JsonField>& fields,
                     config::ErrorList& errors) {
  // Keys in a stable order (a Struct's map has none).
  std::map<std::string, const google::protobuf::Value*> sorted;
  for (const auto& [key, value] : object.fields()) sorted.emplace(key, &value);
  bool ok = true;
  for (const auto& [key, value] : sorted) {
    JsonField field;
    field.key = "\"";
    appendJsonEscaped(key, field.key);
    field.key += "\":";
    const std::string field_path = config::keyPath(path, key);
    switch (value->kind_case()) {
      case google::protobuf::Value::kStringValue:
        field.kind = JsonField::kTemplate;
        ok = parseTemplate(value->string_value(), field.pieces, field_path, errors) && ok;
        break;
      case google::protobuf::Value::kStructValue:
        field.kind = JsonField::kObject;
        ok = buildJsonFields(value->struct_value(), field_path, field.children, errors) && ok;
        break;
      case google::protobuf::Value::kNumberValue: {
        field.kind = JsonField::kLiteral;
        char digits[32];
        const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value->number_value());
        field.literal.assign(digits, static_cast<size_t>(end - digits));
        break;
      }
      case google::protobuf::Value::kBoolValue:
        field.kind = JsonField::kLiteral;
        field.literal = value->bool_value() ? "true" : "false";
        break;
      default:
        errors.add(field_path, "json_format values must be strings, numbers, booleans or nested objects");
        ok = false;
        continue;
    }
    fields.push_back(std::move(field));
  }
  return ok;
}

void appendJsonObject(const std::vector<JsonField>& fields, const LogContext& c, bool omit_empty, std::string& out,
                      std::string& scratch, std::string& joined) {
  out += '{';
  bool first = true;
  auto key = [&](const JsonField& f) {
    if (!first) out += ',';
    first = false;
    out += f.key;
  };
  for (const auto& f : fields) {
    switch (f.kind) {
      case JsonField::kLiteral:
        key(f);
        out += f.literal;
        break;
      case JsonField::kObject:
        key(f);
        appendJsonObject(f.children, c, omit_empty, out, scratch, joined);
        break;
      case JsonField::kTemplate:
        if (f.pieces.size() == 1 && f.pieces[0].op) {
          // One operator alone keeps its type: numbers as numbers, no value as null.
          scratch.clear();
          const Value v = evaluate(*f.pieces[0].op, c, scratch);
          if (omit_empty && (v.kind == Value::kNull || (v.kind == Value::kString && v.text.empty()))) break;
          key(f);
          if (v.kind == Value::kNull) {
            out += "null";
          } else if (v.kind == Value::kNumber) {
            appendNumber(v.number, out);
          } else {
            out += '"';
            appendJsonEscaped(v.text, out);
            out += '"';
          }
        } else {
          joined.clear();
          appendText(f.pieces, c, omit_empty, joined, scratch);
          if (omit_empty && joined.empty()) break;
          key(f);
          out += '"';
          appendJsonEscaped(joined, out);
          out += '"';
        }
        break;
    }
  }
  out += '}';
}

}  // namespace

Formatter::Formatter() = default;
Formatter::~Formatter() = default;

std::unique_ptr<const Formatter> Formatter::text(std::string_view format, std::string_view path,
                                                 config::ErrorList& errors, bool omit_empty_values) {
  std::unique_ptr<Formatter> f(new Formatter());
  f->omit_empty_values_ = omit_empty_values;
  if (!parseTemplate(format, f->text_, path, errors)) return nullptr;
  return f;
}

std::unique_ptr<const Formatter> Formatter::build(const envoy::config::core::v3::SubstitutionFormatString& config,
                                                  std::string_view path, config::ErrorList& errors) {
  using Config = envoy::config::core::v3::SubstitutionFormatString;
  const bool omit = config.omit_empty_values();
  switch (config.format_case()) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    case Config::kTextFormat:
      return text(config.text_format(), config::childPath(path, "text_format"), errors, omit);
#pragma GCC diagnostic pop
    case Config::kTextFormatSource: {
      const auto& source = config.text_format_source();
      const std::string source_path = config::childPath(path, "text_format_source");
      const auto format = config::readDataSource(source, source_path, errors);
      if (!format) return nullptr;
      const char* field = source.has_filename()       ? "filename"
                          : source.has_inline_bytes() ? "inline_bytes"
                                                      : "inline_string";
      return text(*format, config::childPath(source_path, field), errors, omit);
    }
    case Config::kJsonFormat: {
      std::unique_ptr<Formatter> f(new Formatter());
      f->json_ = true;
      f->omit_empty_values_ = omit;
      if (!buildJsonFields(config.json_format(), config::childPath(path, "json_format"), f->fields_, errors)) {
        return nullptr;
      }
      return f;
    }
    case Config::FORMAT_NOT_SET:
      break;
  }
  errors.add(std::string(path), "needs text_format_source, text_format or json_format");
  return nullptr;
}

void Formatter::format(const LogContext& context, std::string& out) const {
  // Per-thread scratch space: values are assembled here without allocating
  // once the buffers have grown.
  thread_local std::string scratch;
  thread_local std::string joined;
  if (json_) {
    appendJsonObject(fields_, context, omit_empty_values_, out, scratch, joined);
    out += '\n';
  } else {
    appendText(text_, context, omit_empty_values_, out, scratch);
  }
}

}  // namespace sluice::accesslog
