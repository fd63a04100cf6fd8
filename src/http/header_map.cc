#include "http/header_map.h"

namespace sluice::http {

char toLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (toLowerAscii(a[i]) != toLowerAscii(b[i])) return false;
  }
  return true;
}

void HeaderMap::add(std::string_view name, std::string_view value) {
  Slot s{};
  const size_t start = arena_.size();
  s.name_offset = static_cast<uint32_t>(start);
  s.name_length = static_cast<uint32_t>(name.size());
  arena_.append(name);  // one copy, then lowercased in place (not a push_back per byte)
  for (size_t i = start; i < arena_.size(); ++i) arena_[i] = toLowerAscii(arena_[i]);
  s.value_offset = static_cast<uint32_t>(arena_.size());
  s.value_length = static_cast<uint32_t>(value.size());
  arena_.append(value);
  s.removed = false;
  slots_.push_back(s);
  ++live_;
  bytes_ += name.size() + value.size();
}

void HeaderMap::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

size_t HeaderMap::remove(std::string_view name) {
  return removeIf([name](const Entry& e) { return equalsIgnoreCase(e.name, name); });
}

std::optional<std::string_view> HeaderMap::get(std::string_view name) const {
  for (const auto& s : slots_) {
    if (s.removed || s.name_length != name.size()) continue;
    const Entry e = entryOf(s);
    if (equalsIgnoreCase(e.name, name)) return e.value;
  }
  return std::nullopt;
}

size_t HeaderMap::count(std::string_view name) const {
  size_t n = 0;
  forEach([&](const Entry& e) { n += equalsIgnoreCase(e.name, name) ? 1 : 0; });
  return n;
}

void HeaderMap::clear() {
  arena_.clear();
  slots_.clear();
  live_ = 0;
  bytes_ = 0;
}

// Removed fields leave their bytes in the arena; rebuild once most of it is dead
// so a long-lived map (many set() calls) cannot grow without bound.
void HeaderMap::compactIfWasteful() {
  if (arena_.size() < 4096 || bytes_ * 2 > arena_.size()) return;
  std::string arena;
  arena.reserve(bytes_);
  std::vector<Slot> slots;
  slots.reserve(live_);
  for (const auto& s : slots_) {
    if (s.removed) continue;
    Slot n = s;
    n.name_offset = static_cast<uint32_t>(arena.size());
    arena.append(arena_, s.name_offset, s.name_length);
    n.value_offset = static_cast<uint32_t>(arena.size());
    arena.append(arena_, s.value_offset, s.value_length);
    slots.push_back(n);
  }
  arena_.swap(arena);
  slots_.swap(slots);
}

}  // namespace sluice::http
