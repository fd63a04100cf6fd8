// The real `sluice` binary: --mode validate output and exit codes, usage errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/process.h"

namespace sluice::test {
namespace {

const std::string kSluice = SLUICE_BINARY;
const std::string kExamples = SLUICE_SOURCE_DIR "/examples/";

std::string writeTemp(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / ("sluice-cli-" + std::to_string(getpid()) + "-" + name);
  std::ofstream(path) << content;
  return path.string();
}

TEST(Cli, ValidateModePrintsOkAndExitsZero) {
  const auto r = runProcess({kSluice, "--mode", "validate", "-c", kExamples + "quickstart.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "configuration '" + kExamples + "quickstart.yaml' OK\n");
}

TEST(Cli, ValidateModeAcceptsEveryExample) {
  for (const auto& entry : std::filesystem::directory_iterator(kExamples)) {
    if (entry.path().extension() != ".yaml") continue;
    const auto r = runProcess({kSluice, "--mode", "validate", "-c", entry.path().string()});
    EXPECT_EQ(r.exit_code, 0) << entry.path() << "\n" << r.err;
  }
}

TEST(Cli, ValidateModeAcceptsConfigYaml) {
  const auto r = runProcess({kSluice, "--mode", "validate", "--config-yaml", "node: { id: a }"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "configuration '--config-yaml' OK\n");
}

TEST(Cli, ValidateModePrintsEveryErrorAndExitsOne) {
  const auto path = writeTemp("invalid.yaml", R"(
static_resources:
  clusters:
  - name: web
    connect_timeout: 0s
    load_assignment: { cluster_name: web, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 70000 } } } } ] } ] }
  - name: web
    load_assignment: { cluster_name: web, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 80 } } } } ] } ] }
)");
  const auto r = runProcess({kSluice, "--mode", "validate", "-c", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("configuration '" + path + "' is invalid (3 errors):"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("static_resources.clusters[0].connect_timeout: must be greater than 0s"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address."
                       "socket_address.port_value: must be <= 65535"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("static_resources.clusters[1].name: duplicate cluster name 'web'"), std::string::npos) << r.err;
  std::filesystem::remove(path);
}

TEST(Cli, ValidateModeRejectsUnsupportedFieldsByName) {
  const auto r =
      runProcess({kSluice, "--mode", "validate", "--config-yaml", "node: { id: a }\nhds_config: { api_type: GRPC }"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("hds_config: is not supported by sluice"), std::string::npos) << r.err;
}

TEST(Cli, ServiceFlagsOverrideTheNode) {
  // --service-zone lands in node.locality.zone; the config stays valid.
  const auto r = runProcess({kSluice, "--mode", "validate", "-c", kExamples + "quickstart.yaml", "--service-node", "n1",
                             "--service-cluster", "edge", "--service-zone", "z1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Cli, UnknownFlagPrintsUsageAndExitsOne) {
  const auto r = runProcess({kSluice, "--colour", "blue"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: unknown flag '--colour'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Usage: sluice [options]"), std::string::npos) << r.err;
}

TEST(Cli, MissingConfigPrintsUsageAndExitsOne) {
  const auto r = runProcess({kSluice, "--mode", "validate"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Usage: sluice [options]"), std::string::npos) << r.err;
}

TEST(Cli, UnreadableFileExitsOne) {
  const auto r = runProcess({kSluice, "--mode", "validate", "-c", "/nonexistent.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot read '/nonexistent.yaml'"), std::string::npos) << r.err;
}

TEST(Cli, HelpAndVersionExitZero) {
  const auto help = runProcess({kSluice, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--config-path"), std::string::npos);
  const auto version = runProcess({kSluice, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("sluice version: ", 0), 0u);
}

TEST(Cli, ConfigDocToolPrintsTheCommittedDoc) {
  const auto r = runProcess({SLUICE_CONFIG_DOC_BINARY});
  EXPECT_EQ(r.exit_code, 0);
  std::ifstream in(SLUICE_SOURCE_DIR "/docs/CONFIG.md");
  std::stringstream committed;
  committed << in.rdbuf();
  EXPECT_EQ(r.out, committed.str());
}

}  // namespace
}  // namespace sluice::test
