#include "config/input_limits.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace sluice::config {
namespace {

std::string prefix(std::string_view source) { return source.empty() ? "" : std::string(source) + ": "; }

std::string at(const YAML::Mark& mark) {
  return " (at line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) + ")";
}

// Thrown by the counter to stop the parser at the first limit passed.
struct LimitExceeded {
  std::string message;
};

// Counts a document's cost from the parser's events, aliases expanded, without
// building it: an anchored node's expanded size and height are kept when it
// ends, and an alias adds them. Every event costs O(1).
class CostCounter : public YAML::EventHandler {
 public:
  explicit CostCounter(const InputLimits& limits) : limits_(limits) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(mark, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapEnd() override { close(); }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (++aliases_ > limits_.max_aliases) {
      fail("config has more than " + std::to_string(limits_.max_aliases) + " YAML aliases" + at(mark));
    }
    const Anchored& target = anchored(anchor);
    if (!target.complete) fail("a YAML alias refers to a node that contains it (a cycle)" + at(mark));
    const size_t depth = open_.size() + target.height;
    checkDepth(depth, mark);
    noteDepth(depth);
    nodes_ += target.nodes;
    checkNodes(mark);
  }

 private:
  struct Open {
    uint64_t nodes_before;  // nodes_ before this node
    size_t depth;           // 1 for the root
    size_t deepest;         // the deepest level below it so far, aliases expanded
    YAML::anchor_t anchor;
  };
  struct Anchored {
    uint64_t nodes = 0;
    size_t height = 0;
    bool complete = false;
  };

  [[noreturn]] static void fail(std::string message) { throw LimitExceeded{std::move(message)}; }

  Anchored& anchored(YAML::anchor_t anchor) {
    if (anchor >= anchors_.size()) anchors_.resize(anchor + 1);
    return anchors_[anchor];
  }

  void checkDepth(size_t depth, const YAML::Mark& mark) const {
    if (depth > limits_.max_depth) {
      fail("config nests deeper than " + std::to_string(limits_.max_depth) + " levels" + at(mark));
    }
  }

  void checkNodes(const YAML::Mark& mark) const {
    if (nodes_ > limits_.max_nodes) {
      fail("config exceeds " + std::to_string(limits_.max_nodes) + " nodes (YAML aliases expand)" + at(mark));
    }
    if (nodes_ - literal_ > limits_.max_alias_expanded_nodes) {
      fail("config exceeds " + std::to_string(limits_.max_alias_expanded_nodes) +
           " nodes added by expanding YAML aliases" + at(mark));
    }
  }

  void noteDepth(size_t depth) {
    if (!open_.empty()) open_.back().deepest = std::max(open_.back().deepest, depth);
  }

  // A node written in the text (not reached through an alias), at the next
  // depth: counted and checked. Returns its depth.
  size_t countLiteral(const YAML::Mark& mark) {
    const size_t depth = open_.size() + 1;
    checkDepth(depth, mark);
    noteDepth(depth);
    ++nodes_;
    ++literal_;
    checkNodes(mark);
    return depth;
  }

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    countLiteral(mark);
    if (anchor != YAML::NullAnchor) anchored(anchor) = {1, 1, true};
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    const size_t depth = countLiteral(mark);
    open_.push_back({nodes_ - 1, depth, depth, anchor});
    if (anchor != YAML::NullAnchor) anchored(anchor) = {};  // open: an alias to it now is a cycle
  }

  void close() {
    if (open_.empty()) return;
    const Open node = open_.back();
    open_.pop_back();
    if (node.anchor != YAML::NullAnchor) {
      anchored(node.anchor) = {nodes_ - node.nodes_before, node.deepest - node.depth + 1, true};
    }
    noteDepth(node.deepest);
  }

  const InputLimits& limits_;
  std::vector<Open> open_;
  std::vector<Anchored> anchors_;  // by the parser's anchor id
  uint64_t nodes_ = 0;             // aliases expanded
  uint64_t literal_ = 0;           // as written
  uint64_t aliases_ = 0;
};

}  // namespace

bool checkConfigSize(size_t size, std::string_view source, ErrorList& errors, const InputLimits& limits) {
  if (size <= limits.max_bytes) return true;
  errors.add("", prefix(source) + "config exceeds " + std::to_string(limits.max_bytes) + " bytes");
  return false;
}

bool readConfigFile(const std::string& path, std::string& out, ErrorList& errors, const InputLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.add("", "cannot read '" + path + "': " + std::strerror(errno));
    return false;
  }
  out.clear();
  char chunk[64 * 1024];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    out.append(chunk, static_cast<size_t>(in.gcount()));
    if (out.size() > limits.max_bytes) {
      out.clear();
      return checkConfigSize(limits.max_bytes + 1, path, errors, limits);
    }
  }
  if (in.bad()) {
    errors.add("", "cannot read '" + path + "': " + std::strerror(errno));
    return false;
  }
  return true;
}

bool loadBoundedYaml(std::string_view text, std::string_view source, YAML::Node& out, ErrorList& errors,
                     const InputLimits& limits) {
  if (!checkConfigSize(text.size(), source, errors, limits)) return false;
  try {
    {
      std::istringstream stream{std::string(text)};
      YAML::Parser parser(stream);
      CostCounter counter(limits);
      parser.HandleNextDocument(counter);
    }
    // Within the bounds: build the node tree (yaml-cpp shares an anchored
    // node between its aliases, so this costs the literal size).
    out = YAML::Load(std::string(text));
  } catch (const LimitExceeded& e) {
    errors.add("", prefix(source) + e.message);
    return false;
  } catch (const YAML::Exception& e) {
    // yaml-cpp counts lines and columns from 0. Its own nesting guard
    // (DeepRecursion) is a parser exception too, reported here.
    errors.add("", "YAML/JSON syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                       std::to_string(e.mark.column + 1) + ": " + e.msg);
    return false;
  }
  return true;
}

}  // namespace sluice::config
