#include "config/config_error.h"

namespace sluice::config {

std::string ConfigError::toString() const {
  if (path.empty()) return message;
  return path + ": " + message;
}

void ErrorList::add(std::string path, std::string message) { errors_.push_back({std::move(path), std::move(message)}); }

void ErrorList::append(const ErrorList& other) {
  errors_.insert(errors_.end(), other.errors_.begin(), other.errors_.end());
}

std::string ErrorList::toString() const {
  std::string out;
  for (const auto& e : errors_) {
    out += e.toString();
    out += '\n';
  }
  return out;
}

std::string childPath(std::string_view parent, std::string_view field) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += field;
  return out;
}

std::string indexPath(std::string_view parent, size_t index) {
  std::string out(parent);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

std::string keyPath(std::string_view parent, std::string_view key) {
  std::string out(parent);
  out += "[\"";
  out += key;
  out += "\"]";
  return out;
}

}  // namespace sluice::config
