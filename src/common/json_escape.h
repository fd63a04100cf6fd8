// A JSON string's body: quote, backslash and control characters escaped
// (short forms where JSON has them, \u00XX otherwise); a byte that is not part
// of valid UTF-8 becomes U+FFFD (JSON text must be UTF-8); other bytes as
// they are.
// Shared by the stats JSON output and the application log's %j flag.
#pragma once

#include <string>
#include <string_view>

#include "common/utf8.h"

namespace sluice {

inline std::string escapeJson(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      const size_t length = utf8SequenceLength(text, i);
      if (length == 0) {
        out += kUtf8Replacement;
      } else {
        out.append(text, i, length);
        i += length - 1;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 15];
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace sluice
