#include "http/path_normalization.h"

namespace sluice::http {
namespace {

// End of the path part: the first '?' (the query is never touched), else the end.
size_t pathEnd(std::string_view target) {
  const size_t q = target.find('?');
  return q == std::string_view::npos ? target.size() : q;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// The byte an escape at target[i] stands for, or -1 when target[i] starts none.
int escapeAt(std::string_view target, size_t i, size_t end) {
  if (target[i] != '%' || i + 2 >= end) return -1;
  const int hi = hexValue(target[i + 1]);
  const int lo = hexValue(target[i + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Replaces the path part [0, old_end) of `target` by its first `new_end` bytes,
// keeping the query.
void shrinkPath(std::string& target, size_t new_end, size_t old_end) {
  if (new_end != old_end) target.erase(new_end, old_end - new_end);
}

}  // namespace

bool hasEscapedSlashes(std::string_view target) {
  const size_t end = pathEnd(target);
  for (size_t i = 0; i + 2 < end; ++i) {
    const int byte = escapeAt(target, i, end);
    if (byte == '/' || byte == '\\') return true;
  }
  return false;
}

void unescapeSlashes(std::string& target) {
  const size_t end = pathEnd(target);
  size_t w = 0;
  for (size_t r = 0; r < end;) {
    const int byte = escapeAt(target, r, end);
    if (byte == '/' || byte == '\\') {
      target[w++] = static_cast<char>(byte);
      r += 3;
    } else {
      target[w++] = target[r++];
    }
  }
  shrinkPath(target, w, end);
}

void canonicalizePath(std::string& target) {
  size_t end = pathEnd(target);
  // 1. Decode escaped unreserved characters (so "%2e%2E" is a ".." segment)
  //    and turn '\' into '/'.
  size_t w = 0;
  for (size_t r = 0; r < end;) {
    const int byte = escapeAt(target, r, end);
    if (byte >= 0 && isUnreserved(static_cast<char>(byte))) {
      target[w++] = static_cast<char>(byte);
      r += 3;
      continue;
    }
    const char c = target[r++];
    target[w++] = c == '\\' ? '/' : c;
  }
  shrinkPath(target, w, end);
  end = w;
  // 2. Remove dot segments (RFC 3986 5.2.4), segment by segment; the output
  //    never overtakes the input.
  w = 0;
  for (size_t r = 0; r < end;) {
    // target[r] is a '/'; the segment runs to the next one.
    size_t next = target.find('/', r + 1);
    if (next == std::string::npos || next > end) next = end;
    const std::string_view segment(target.data() + r + 1, next - r - 1);
    const bool last = next == end;
    if (segment == "." || segment == "..") {
      if (segment == "..") {
        // Drop the last output segment: back to its '/'.
        while (w > 0 && target[w - 1] != '/') --w;
        if (w > 0) --w;
      }
      if (last) target[w++] = '/';  // "/a/.." is "/", "/a/b/." is "/a/b/"
    } else {
      for (size_t i = r; i < next; ++i) target[w++] = target[i];
    }
    r = next;
  }
  shrinkPath(target, w, end);
}

void mergeSlashes(std::string& target) {
  const size_t end = pathEnd(target);
  size_t w = 0;
  for (size_t r = 0; r < end; ++r) {
    if (target[r] == '/' && w > 0 && target[w - 1] == '/') continue;
    target[w++] = target[r];
  }
  shrinkPath(target, w, end);
}

PathVerdict normalizeRequestPath(std::string& target, const PathNormalizationOptions& options) {
  if (target.empty() || target.front() != '/') return PathVerdict::Forward;
  bool redirect = false;
  if (options.escaped_slashes != EscapedSlashesAction::KeepUnchanged && hasEscapedSlashes(target)) {
    if (options.escaped_slashes == EscapedSlashesAction::RejectRequest) return PathVerdict::Reject;
    unescapeSlashes(target);
    redirect = options.escaped_slashes == EscapedSlashesAction::UnescapeAndRedirect;
  }
  if (options.normalize_path) canonicalizePath(target);
  if (options.merge_slashes) mergeSlashes(target);
  return redirect ? PathVerdict::Redirect : PathVerdict::Forward;
}

}  // namespace sluice::http
