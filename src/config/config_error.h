// Config errors: every problem found in a configuration, each naming the field
// path it is about (e.g. `static_resources.clusters[1].connect_timeout`).
// Config code reports all errors it finds rather than stopping at the first.
// Plain values; not thread-safe, used by whoever loads a config.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::config {

struct ConfigError {
  std::string path;     // field path from the root of the document; empty: the whole document
  std::string message;  // what is wrong and, where it helps, what to do

  std::string toString() const;
  bool operator==(const ConfigError&) const = default;
};

class ErrorList {
 public:
  void add(std::string path, std::string message);
  void append(const ErrorList& other);

  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const std::vector<ConfigError>& errors() const { return errors_; }

  // One error a line, in the order found.
  std::string toString() const;

 private:
  std::vector<ConfigError> errors_;
};

// Field path building: `parent.field`, `parent[3]`, `parent["key"]`.
std::string childPath(std::string_view parent, std::string_view field);
std::string indexPath(std::string_view parent, size_t index);
std::string keyPath(std::string_view parent, std::string_view key);

}  // namespace sluice::config
