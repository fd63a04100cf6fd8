// The most work a config input may cost before it is accepted or rejected:
// its size, its node count with YAML aliases expanded, its nesting depth and
// its number of aliases. Every input that becomes config (the bootstrap from
// -c and --config-yaml, LDS/CDS/EDS files, runtime files, and xDS resources
// when they exist) is read through these functions, so the bounds hold before
// anything is expanded, converted or validated. Main thread (or whoever loads
// a config); no shared state.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config_error.h"

namespace sluice::config {

// Why these numbers (docs/HARDENING.md, "Config-input bounds"): a bootstrap
// with 10,000 clusters is about 4 MiB and 500,000 nodes, so each bound is
// 10x or more above it, and still far below what exhausts memory or stalls
// the main thread.
inline constexpr size_t kMaxConfigBytes = 64 * 1024 * 1024;
// Nodes (maps, lists, scalars, keys included) after alias expansion.
inline constexpr uint64_t kMaxConfigNodes = 10'000'000;
// Of those, the nodes that aliases add (the expansion beyond the literal
// text): a 2 KB alias bomb must not cost what a 64 MiB file may.
inline constexpr uint64_t kMaxAliasExpandedNodes = 1'000'000;
inline constexpr uint64_t kMaxConfigAliases = 100'000;
// Nesting, aliases expanded. Protobuf's own parsers stop at 100 levels of
// messages; YAML lists add levels that are not messages, hence some room.
inline constexpr size_t kMaxConfigDepth = 128;

struct InputLimits {
  size_t max_bytes = kMaxConfigBytes;
  uint64_t max_nodes = kMaxConfigNodes;
  uint64_t max_alias_expanded_nodes = kMaxAliasExpandedNodes;
  uint64_t max_aliases = kMaxConfigAliases;
  size_t max_depth = kMaxConfigDepth;
};

// False with an error naming `source` and the limit when `size` is over
// `limits.max_bytes`.
bool checkConfigSize(size_t size, std::string_view source, ErrorList& errors, const InputLimits& limits = {});

// Reads the whole file at `path` into `out`, refusing one over
// `limits.max_bytes` (read no further than the limit, so a FIFO or /dev/zero
// costs no more than a large file).
bool readConfigFile(const std::string& path, std::string& out, ErrorList& errors, const InputLimits& limits = {});

// Parses the first YAML (or JSON) document of `text` into `out` if it is
// within `limits`. The text is first walked as a stream of parser events,
// which never expands an alias: each anchored node's expanded size and depth
// are counted once and added where an alias names it, and the walk stops at
// the first limit passed. An alias to a node that contains it (a cycle) is
// rejected too. Syntax errors are reported with their line and column.
// `source` names the input in errors ("lds.yaml", "--config-yaml"); may be empty.
bool loadBoundedYaml(std::string_view text, std::string_view source, YAML::Node& out, ErrorList& errors,
                     const InputLimits& limits = {});

}  // namespace sluice::config
