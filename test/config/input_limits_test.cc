// The config-input bounds: size, nodes with aliases expanded, the nodes
// aliases add, the number of aliases, nesting depth, alias cycles; each
// rejected before anything is expanded, with an error naming the limit.
#include "config/input_limits.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "config/bootstrap_loader.h"
#include "config/discovery_file.h"
#include "config/yaml_to_proto.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace sluice::config {
namespace {

namespace fs = std::filesystem;

ErrorList load(std::string_view text, const InputLimits& limits = {}, std::string_view source = "in.yaml") {
  YAML::Node node;
  ErrorList errors;
  const bool ok = loadBoundedYaml(text, source, node, errors, limits);
  EXPECT_EQ(ok, errors.empty());
  return errors;
}

std::string only(const ErrorList& errors) {
  EXPECT_EQ(errors.size(), 1u) << errors.toString();
  return errors.empty() ? "" : errors.errors()[0].toString();
}

// `levels` of anchors, each a list of `width` aliases to the one before:
// width^levels scalars from a text of a few hundred bytes.
std::string aliasBomb(int levels, int width, const std::string& indent = "") {
  std::string out = indent + "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int level = 1; level <= levels; ++level) {
    out += indent + "l" + std::to_string(level) + ": &l" + std::to_string(level) + " [";
    for (int i = 0; i < width; ++i) out += (i ? ", *l" : "*l") + std::to_string(level - 1);
    out += "]\n";
  }
  return out;
}

TEST(ConfigInputLimits, RejectsADocumentOverMaxBytes) {
  InputLimits limits;
  limits.max_bytes = 16;
  EXPECT_TRUE(load("a: 0123456789ab", limits).empty());  // 15 bytes
  EXPECT_EQ(only(load("a: 0123456789abcd", limits)), "in.yaml: config exceeds 16 bytes");
}

TEST(ConfigInputLimits, CountsNodesAtTheLimitExactly) {
  InputLimits limits;
  limits.max_nodes = 5;  // the map, two keys, two values
  EXPECT_TRUE(load("a: 1\nb: 2\n", limits).empty());
  limits.max_nodes = 4;
  EXPECT_EQ(only(load("a: 1\nb: 2\n", limits)),
            "in.yaml: config exceeds 4 nodes (YAML aliases expand) (at line 2, column 4)");
}

TEST(ConfigInputLimits, CountsAliasesExpanded) {
  // 1 map + 2 keys + the anchored list (1 + 3) + the alias (4 more) = 11.
  const std::string text = "a: &x [1, 2, 3]\nb: *x\n";
  InputLimits limits;
  limits.max_nodes = 11;
  EXPECT_TRUE(load(text, limits).empty());
  limits.max_nodes = 10;
  EXPECT_NE(only(load(text, limits)).find("config exceeds 10 nodes (YAML aliases expand)"), std::string::npos);
}

TEST(ConfigInputLimits, RejectsAnAliasBombQuicklyWithoutExpandingIt) {
  // 10^9 nodes once expanded, 400 bytes of text.
  const std::string text = aliasBomb(8, 10);
  const auto start = std::chrono::steady_clock::now();
  const std::string error = only(load(text));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(error.find("in.yaml: config exceeds 1000000 nodes added by expanding YAML aliases"), std::string::npos)
      << error;
  EXPECT_LT(took, std::chrono::milliseconds(500));
}

TEST(ConfigInputLimits, RejectsAliasesThatAddMoreThanTheirBudget) {
  InputLimits limits;
  limits.max_alias_expanded_nodes = 100;
  EXPECT_TRUE(load(aliasBomb(1, 9), limits).empty());  // 9 aliases of 11 nodes: 99 added
  EXPECT_NE(only(load(aliasBomb(1, 10), limits)).find("config exceeds 100 nodes added by expanding YAML aliases"),
            std::string::npos);
}

TEST(ConfigInputLimits, RejectsTooManyAliases) {
  InputLimits limits;
  limits.max_aliases = 3;
  EXPECT_TRUE(load("a: &x 1\nb: [*x, *x, *x]\n", limits).empty());
  EXPECT_EQ(only(load("a: &x 1\nb: [*x, *x, *x, *x]\n", limits)),
            "in.yaml: config has more than 3 YAML aliases (at line 2, column 17)");
}

TEST(ConfigInputLimits, RejectsNestingDeeperThanMaxDepth) {
  InputLimits limits;
  limits.max_depth = 4;
  EXPECT_TRUE(load("a: [[1]]", limits).empty());  // the map, two lists, the scalar
  EXPECT_EQ(only(load("a: [[[1]]]", limits)), "in.yaml: config nests deeper than 4 levels (at line 1, column 7)");
}

TEST(ConfigInputLimits, CountsDepthThroughAliases) {
  InputLimits limits;
  limits.max_depth = 5;
  EXPECT_TRUE(load("a: &x [[1]]\nb: [*x]\n", limits).empty());  // 1 + 1 + 3
  EXPECT_NE(only(load("a: &x [[1]]\nb: [[*x]]\n", limits)).find("config nests deeper than 5 levels"),
            std::string::npos);
}

TEST(ConfigInputLimits, RejectsDeeplyNestedJsonWithoutOverflowingTheStack) {
  // 100,000 levels: the parser is stopped at the limit, long before its own
  // recursion could exhaust the stack.
  const std::string lists = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_NE(only(load(lists)).find("config nests deeper than 128 levels"), std::string::npos);
  std::string maps;
  for (int i = 0; i < 100000; ++i) maps += "{\"a\":";
  maps += "1" + std::string(100000, '}');
  EXPECT_NE(only(load(maps)).find("config nests deeper than 128 levels"), std::string::npos);
}

TEST(ConfigInputLimits, AcceptsNestingAtTheDefaultDepth) {
  const std::string lists = std::string(127, '[') + "1" + std::string(127, ']');  // 128 levels with the scalar
  EXPECT_TRUE(load(lists).empty());
}

TEST(ConfigInputLimits, RejectsAnAliasToANodeThatContainsIt) {
  // yaml-cpp would build a cycle, which every walk would follow forever.
  EXPECT_EQ(only(load("a: &x [1, *x]\n")),
            "in.yaml: a YAML alias refers to a node that contains it (a cycle) (at line 1, column 11)");
  EXPECT_NE(only(load("a: &x {b: [*x]}\n")).find("(a cycle)"), std::string::npos);
}

TEST(ConfigInputLimits, KeepsReportingSyntaxErrorsWithTheirPosition) {
  EXPECT_EQ(only(load("a: [1, 2\n")).rfind("YAML/JSON syntax error at line ", 0), 0u);
}

TEST(ConfigInputLimits, ReadsOnlyUpToTheLimitFromAFile) {
  InputLimits limits;
  limits.max_bytes = 1024;
  std::string text;
  ErrorList errors;
  EXPECT_FALSE(readConfigFile("/dev/zero", text, errors, limits));  // never ends: stopped at the limit
  EXPECT_EQ(only(errors), "/dev/zero: config exceeds 1024 bytes");
  EXPECT_TRUE(text.empty());
}

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("sluice-limits-" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& content) const {
    const auto file = (path_ / name).string();
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  fs::path path_;
};

TEST(ConfigInputLimits, BoundsTheBootstrapFromAFileAndFromConfigYaml) {
  const TempDir dir;
  const std::string bomb = "node:\n  metadata:\n" + aliasBomb(8, 10, "    ");
  const std::string path = dir.write("bootstrap.yaml", bomb);
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  ErrorList errors;
  EXPECT_FALSE(readBootstrap({path, ""}, bootstrap, errors));
  EXPECT_NE(only(errors).find(path + ": config exceeds 1000000 nodes added by expanding YAML aliases"),
            std::string::npos);

  const std::string json_path = dir.write("bootstrap.json", std::string(1000, '[') + std::string(1000, ']'));
  ErrorList json_errors;
  EXPECT_FALSE(readBootstrap({json_path, ""}, bootstrap, json_errors));
  EXPECT_NE(only(json_errors).find(json_path + ": config nests deeper than 128 levels"), std::string::npos);

  ErrorList yaml_errors;
  EXPECT_FALSE(readBootstrap({"", bomb}, bootstrap, yaml_errors));
  EXPECT_NE(only(yaml_errors).find("--config-yaml: config exceeds 1000000 nodes"), std::string::npos);
}

TEST(ConfigInputLimits, BoundsDiscoveryFiles) {
  const TempDir dir;
  const std::string path = dir.write("lds.yaml",
                                     "version_info: '1'\nresources:\n- '@type': "
                                     "type.googleapis.com/envoy.config.listener.v3.Listener\n"
                                     "  name: l\n  metadata:\n    filter_metadata:\n      bomb:\n" +
                                         aliasBomb(8, 10, "        "));
  DiscoveryFile file;
  ErrorList errors;
  EXPECT_FALSE(readDiscoveryFile(path, "envoy.config.listener.v3.Listener", file, errors));
  EXPECT_NE(only(errors).find(path + ": config exceeds 1000000 nodes added by expanding YAML aliases"),
            std::string::npos);
}

// The bounds leave real configs alone: 10,000 clusters with endpoints.
TEST(ConfigInputLimits, AcceptsABootstrapWithTenThousandClusters) {
  std::string text = "static_resources:\n  clusters:\n";
  for (int i = 0; i < 10000; ++i) {
    const std::string name = "cluster_" + std::to_string(i);
    text += "  - name: " + name +
            "\n    connect_timeout: 0.25s\n    type: STATIC\n    lb_policy: ROUND_ROBIN\n"
            "    load_assignment:\n      cluster_name: " +
            name +
            "\n      endpoints:\n      - lb_endpoints:\n        - endpoint:\n            address:\n"
            "              socket_address: { address: 10.0.0.1, port_value: 8080 }\n"
            "        - endpoint:\n            address:\n"
            "              socket_address: { address: 10.0.0.2, port_value: 8080 }\n";
  }
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  ErrorList errors;
  parseYamlInto(text, bootstrap, errors, "big.yaml");
  EXPECT_TRUE(errors.empty()) << errors.toString();
  EXPECT_EQ(bootstrap.static_resources().clusters_size(), 10000);
}

}  // namespace
}  // namespace sluice::config
