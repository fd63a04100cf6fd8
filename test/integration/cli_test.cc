// The real `sluice` binary: --mode validate output and exit codes, usage errors.
#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/config_dump_shared.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
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

// Validation reads the file-based LDS/CDS/EDS sources and checks the
// directories serve watches, as serve does: the examples' /etc/sluice files
// are given here as empty resource lists, /srv/runtime as an empty directory.
TEST(Cli, ValidateModeAcceptsEveryExample) {
  const auto etc = std::filesystem::temp_directory_path() / ("sluice-cli-etc-" + std::to_string(getpid()));
  std::filesystem::create_directories(etc);
  for (const char* name : {"lds.yaml", "cds.yaml", "eds.yaml"}) std::ofstream(etc / name) << "resources: []\n";
  std::filesystem::create_directories(etc / "runtime");
  // examples/tls.yaml's certificates (as its header makes them): made here, never committed.
  const std::string tls = (etc / "tls").string();
  const auto made = runProcess(
      {"/bin/sh", "-c",
       "set -e; mkdir -p " + tls + "; cd " + tls +
           "; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ca"
           " -keyout ca.key -out ca.crt 2>/dev/null;"
           " openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=example.com -keyout server-rsa.key"
           " -out server-rsa.crt 2>/dev/null;"
           " openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=example.com"
           " -keyout server-ec.key -out server-ec.crt 2>/dev/null"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples)) {
    if (entry.path().extension() != ".yaml") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const auto path =
        writeTemp(entry.path().filename().string(),
                  std::regex_replace(std::regex_replace(text.str(), std::regex("/etc/sluice"), etc.string()),
                                     std::regex("/srv/runtime"), (etc / "runtime").string()));
    const auto r = runProcess({kSluice, "--mode", "validate", "-c", path});
    EXPECT_EQ(r.exit_code, 0) << entry.path() << "\n" << r.err;
    std::filesystem::remove(path);
  }
  std::filesystem::remove_all(etc);
}

TEST(Cli, ValidateModeReadsFileBasedDiscoverySourcesAsServeDoes) {
  const auto r = runProcess({kSluice, "--mode", "validate", "--config-yaml",
                             "dynamic_resources: { lds_config: { path_config_source: { path: /nonexistent/lds.yaml }, "
                             "resource_api_version: V3 } }"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("dynamic_resources.lds_config.path_config_source.path: '/nonexistent/lds.yaml': cannot read "
                       "'/nonexistent/lds.yaml'"),
            std::string::npos)
      << r.err;
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

// The real server's /config_dump is Envoy's ConfigDump: it parses back into
// the proto with no unknown field, and the Anys unpack to the example's
// listener, clusters and routes.
TEST(Cli, ConfigDumpParsesBackIntoEnvoysConfigDump) {
  std::ifstream in(kExamples + "quickstart.yaml");
  std::stringstream example;
  example << in.rdbuf();
  // Every port 0: the kernel picks (the example's fixed ports may be taken).
  const std::string config = std::regex_replace(example.str(), std::regex("port_value: \\d+"), "port_value: 0");
  const auto config_path = writeTemp("quickstart.yaml", config);
  const auto address_path = writeTemp("admin.address", "");
  BackgroundProcess sluice({kSluice, "-c", config_path, "--concurrency", "1", "--admin-address-path", address_path});
  ASSERT_TRUE(sluice.waitForStderr("sluice: started")) << sluice.err();
  std::ifstream address_file(address_path);
  std::string address;
  address_file >> address;
  const int port = std::stoi(address.substr(address.rfind(':') + 1));

  const std::string response = httpGet(port, "/config_dump");
  ASSERT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  const std::string body = response.substr(response.find("\r\n\r\n") + 4);
  envoy::admin::v3::ConfigDump dump;
  google::protobuf::util::JsonParseOptions strict;
  strict.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(body, &dump, strict);
  ASSERT_TRUE(status.ok()) << status.ToString() << "\n" << body;
  ASSERT_EQ(dump.configs_size(), 4);

  envoy::admin::v3::BootstrapConfigDump bootstrap;
  ASSERT_TRUE(dump.configs(0).UnpackTo(&bootstrap));
  EXPECT_EQ(bootstrap.bootstrap().static_resources().listeners_size(), 1);
  EXPECT_TRUE(bootstrap.has_last_updated());

  envoy::admin::v3::ClustersConfigDump clusters;
  ASSERT_TRUE(dump.configs(1).UnpackTo(&clusters));
  std::set<std::string> cluster_names;
  for (const auto& entry : clusters.static_clusters()) {
    envoy::config::cluster::v3::Cluster cluster;
    ASSERT_TRUE(entry.cluster().UnpackTo(&cluster));
    cluster_names.insert(cluster.name());
  }
  EXPECT_EQ(cluster_names, (std::set<std::string>{"api", "web"}));

  envoy::admin::v3::ListenersConfigDump listeners;
  ASSERT_TRUE(dump.configs(2).UnpackTo(&listeners));
  ASSERT_EQ(listeners.static_listeners_size(), 1);
  envoy::config::listener::v3::Listener listener;
  ASSERT_TRUE(listeners.static_listeners(0).listener().UnpackTo(&listener));
  EXPECT_EQ(listener.name(), "ingress");

  envoy::admin::v3::RoutesConfigDump routes;
  ASSERT_TRUE(dump.configs(3).UnpackTo(&routes));
  ASSERT_EQ(routes.static_route_configs_size(), 1);
  envoy::config::route::v3::RouteConfiguration route_config;
  ASSERT_TRUE(routes.static_route_configs(0).route_config().UnpackTo(&route_config));
  EXPECT_EQ(route_config.name(), "local_routes");
  ASSERT_EQ(route_config.virtual_hosts_size(), 1);
  EXPECT_EQ(route_config.virtual_hosts(0).routes(0).route().cluster(), "api");
  std::filesystem::remove(config_path);
  std::filesystem::remove(address_path);
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
