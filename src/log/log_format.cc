#include "log/log_format.h"

#include <cctype>

#include <spdlog/pattern_formatter.h>

#include "log/logger.h"

namespace sluice::log {
namespace {

// The flags Envoy documents for --log-format, spdlog's and Envoy's own (%_, %j).
constexpr std::string_view kFlags = "vtPnlLaAbBcCYDxmdHIMSefFprRTXz%@sg#!_j";

using Escape = std::string (*)(std::string_view);

// %_ and %j: the message, escaped.
class EscapedMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  explicit EscapedMessageFlag(Escape escape) : escape_(escape) {}
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string text = escape_(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedMessageFlag>(escape_);
  }

 private:
  Escape escape_;
};

// --log-format-escaped: the formatted line, escaped but for its trailing whitespace.
class EscapingFormatter final : public spdlog::formatter {
 public:
  explicit EscapingFormatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    spdlog::memory_buf_t line;
    inner_->format(msg, line);
    const std::string_view text(line.data(), line.size());
    size_t end = text.size();
    while (end > 0 && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
    const std::string escaped = escapeC(text.substr(0, end));
    dest.append(escaped.data(), escaped.data() + escaped.size());
    dest.append(text.data() + end, text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<EscapingFormatter>(inner_->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace

std::string checkFormat(std::string_view format) {
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    const size_t start = i++;
    // spdlog's padding: %-8l, %=8l, %8l, %8!l.
    if (i < format.size() && (format[i] == '-' || format[i] == '=')) ++i;
    while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) ++i;
    if (i > start + 1 && i < format.size() && format[i] == '!') ++i;
    if (i >= format.size()) {
      return "--log-format ends inside the flag '" + std::string(format.substr(start)) + "'";
    }
    if (kFlags.find(format[i]) == std::string_view::npos) {
      return "--log-format has an unknown flag '" + std::string(format.substr(start, i + 1 - start)) + "' at offset " +
             std::to_string(start) + " (flags: %v %_ %j %t %P %n %l %L %a %A %b %B %c %C %Y %D %x " +
             "%m %d %H %I %M %S %e %f %F %p %r %R %T %X %z %% %@ %s %g %# %!)";
    }
  }
  return "";
}

std::unique_ptr<spdlog::formatter> makeFormatter(const std::string& format, bool escaped) {
  spdlog::pattern_formatter::custom_flags flags;
  flags['_'] = std::make_unique<EscapedMessageFlag>(&escapeNewlines);
  flags['j'] = std::make_unique<EscapedMessageFlag>(&escapeJson);
  auto formatter =
      std::make_unique<spdlog::pattern_formatter>(format, spdlog::pattern_time_type::local, "\n", std::move(flags));
  if (!escaped) return formatter;
  return std::make_unique<EscapingFormatter>(std::move(formatter));
}

std::string escapeC(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (byte < 0x20 || byte >= 0x7f) {
          const char octal[] = {'\\', static_cast<char>('0' + (byte >> 6)), static_cast<char>('0' + ((byte >> 3) & 7)),
                                static_cast<char>('0' + (byte & 7))};
          out.append(octal, sizeof octal);
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string escapeNewlines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace sluice::log
