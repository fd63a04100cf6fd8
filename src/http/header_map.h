// HeaderMap: the header fields of one HTTP message, in order, with
// case-insensitive names (stored lowercased, as HTTP/2 and Envoy do).
//
// Storage is one string arena plus a vector of offsets, so a map that is
// cleared and refilled for each request on a connection reuses its memory:
// no per-request heap allocation once warmed up. Owned by one stream; touched
// only by the worker thread that owns the stream. Entry views stay valid
// until the next change to the map.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::http {

class HeaderMap {
 public:
  struct Entry {
    std::string_view name;  // lowercase
    std::string_view value;
  };

  // Appends a field; `name` is lowercased. Keeps duplicates (e.g. set-cookie).
  void add(std::string_view name, std::string_view value);
  // Replaces every field named `name` with one field.
  void set(std::string_view name, std::string_view value);
  // Removes every field named `name`; returns how many were removed.
  size_t remove(std::string_view name);
  // Removes fields for which pred(entry) is true.
  template <typename Pred>
  size_t removeIf(Pred pred);

  // The first value of `name` (any case), or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  size_t count(std::string_view name) const;

  size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }
  // Bytes of names and values, as HTTP/1 would count them (for limits).
  size_t byteSize() const { return bytes_; }
  void clear();

  // Calls f(Entry) for each live field, in order.
  template <typename F>
  void forEach(F f) const {
    for (const auto& s : slots_) {
      if (!s.removed) f(entryOf(s));
    }
  }

 private:
  struct Slot {
    uint32_t name_offset;
    uint32_t name_length;
    uint32_t value_offset;
    uint32_t value_length;
    bool removed;
  };
  Entry entryOf(const Slot& s) const {
    return {std::string_view(arena_).substr(s.name_offset, s.name_length),
            std::string_view(arena_).substr(s.value_offset, s.value_length)};
  }
  void compactIfWasteful();

  std::string arena_;
  std::vector<Slot> slots_;
  size_t live_ = 0;
  size_t bytes_ = 0;
};

template <typename Pred>
size_t HeaderMap::removeIf(Pred pred) {
  size_t removed = 0;
  for (auto& s : slots_) {
    if (!s.removed && pred(entryOf(s))) {
      s.removed = true;
      --live_;
      bytes_ -= s.name_length + s.value_length;
      ++removed;
    }
  }
  if (removed) compactIfWasteful();
  return removed;
}

// ASCII-only case-insensitive comparison (header names and tokens).
bool equalsIgnoreCase(std::string_view a, std::string_view b);
char toLowerAscii(char c);

}  // namespace sluice::http
