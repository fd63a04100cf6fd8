#include "control/options.h"

#include <gtest/gtest.h>

#include "support/process.h"

namespace sluice::control {
namespace {

TEST(ControlOptions, ParsesServe) {
  const auto p = parseControlOptions({"serve", "--registry", "file:/r.yaml", "--xds-listen", "127.0.0.1:0",
                                      "--http-listen", "[::1]:9000", "--debounce", "250ms", "--debounce-max", "2s"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.options.command, Command::Serve);
  EXPECT_EQ(p.options.control.debounce, std::chrono::milliseconds(250));
  EXPECT_EQ(p.options.control.debounce_max, std::chrono::seconds(2));
}

TEST(ControlOptions, DefaultsDebounceTo100ms) {
  const auto p = parseControlOptions({"validate", "--registry", "file:/r.yaml"});
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.options.control.debounce, std::chrono::milliseconds(100));
  EXPECT_EQ(p.options.control.debounce_max, std::chrono::seconds(10));
}

TEST(ControlOptions, LoadReportingIntervalDefaultsTo10sAndMustBePositive) {
  const std::vector<std::string> serve = {"serve",       "--registry",    "file:/r.yaml", "--xds-listen",
                                          "127.0.0.1:0", "--http-listen", "127.0.0.1:0"};
  EXPECT_EQ(parseControlOptions(serve).options.load_reporting_interval, std::chrono::seconds(10));
  auto args = serve;
  args.insert(args.end(), {"--load-reporting-interval", "500ms"});
  const auto p = parseControlOptions(args);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.options.load_reporting_interval, std::chrono::milliseconds(500));
  args.back() = "0";
  EXPECT_EQ(parseControlOptions(args).error,
            "--load-reporting-interval '0': expected a positive duration such as 10s or 500ms");
}

TEST(ControlOptions, DriftAndWatchCheckFlagsHaveDefaultsAndAreChecked) {
  const std::vector<std::string> serve = {"serve",       "--registry",    "file:/r.yaml", "--xds-listen",
                                          "127.0.0.1:0", "--http-listen", "127.0.0.1:0"};
  const auto defaults = parseControlOptions(serve).options;
  EXPECT_EQ(defaults.drift_threshold, std::chrono::seconds(10));
  EXPECT_EQ(defaults.watch_check_interval, std::chrono::seconds(30));
  EXPECT_EQ(defaults.etcd_timeout, std::chrono::seconds(2));
  EXPECT_EQ(defaults.test_drop_watch_key, "");
  auto args = serve;
  args[2] = "etcd://127.0.0.1:2379/p";
  args.insert(args.end(), {"--drift-threshold", "250ms", "--watch-check-interval", "0", "--etcd-timeout", "1s"});
  const auto p = parseControlOptions(args);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.options.drift_threshold, std::chrono::milliseconds(250));
  EXPECT_EQ(p.options.watch_check_interval, std::chrono::milliseconds(0));
  EXPECT_EQ(p.options.etcd_timeout, std::chrono::seconds(1));
  args = serve;
  args.insert(args.end(), {"--drift-threshold", "0"});
  EXPECT_EQ(parseControlOptions(args).error,
            "--drift-threshold '0': expected a positive duration such as 10s or 500ms");
  args = serve;
  args.insert(args.end(), {"--watch-check-interval", "soon"});
  EXPECT_EQ(parseControlOptions(args).error, "--watch-check-interval 'soon': expected a duration such as 30s or 0");
  EXPECT_EQ(parseControlOptions({"validate", "--registry", "file:/r.yaml", "--drift-threshold", "1s"}).error,
            "--drift-threshold is a flag of serve, not of validate");
  // The etcd flags have no effect on a file: refused, not ignored.
  args = serve;
  args.insert(args.end(), {"--etcd-timeout", "1s"});
  EXPECT_EQ(parseControlOptions(args).error, "--etcd-timeout needs an etcd:// registry");
  args = serve;
  args.insert(args.end(), {"--test-drop-watch-key", "/p/services/x"});
  EXPECT_EQ(parseControlOptions(args).error, "--test-drop-watch-key needs an etcd:// registry");
  args[2] = "etcd://127.0.0.1:2379/p";
  EXPECT_TRUE(parseControlOptions(args).ok);
}

TEST(ControlOptions, UiDirIsAServeFlag) {
  const std::vector<std::string> serve = {"serve",       "--registry",    "file:/r.yaml", "--xds-listen",
                                          "127.0.0.1:0", "--http-listen", "127.0.0.1:0"};
  EXPECT_EQ(parseControlOptions(serve).options.ui_dir, "");
  auto args = serve;
  args.insert(args.end(), {"--ui-dir", "/opt/ui"});
  const auto p = parseControlOptions(args);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.options.ui_dir, "/opt/ui");
  EXPECT_EQ(parseControlOptions({"validate", "--registry", "file:/r.yaml", "--ui-dir", "/opt/ui"}).error,
            "--ui-dir is a flag of serve, not of validate");
}

TEST(ControlOptions, BadInputIsAClearError) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "a command is required (serve or validate)"},
      {{"run"}, "unknown command 'run' (expected serve, validate, drain, undrain, abort, resume or status)"},
      {{"serve", "--registry"}, "--registry needs a value"},
      {{"serve", "--registry", "file:x", "--http-listen", "127.0.0.1:1"}, "--xds-listen is required"},
      {{"serve", "--registry", "file:x", "--xds-listen", "host:1"}, "--xds-listen 'host:1': expected IP:PORT"},
      {{"serve", "--registry", "file:x", "--xds-listen", "127.0.0.1:70000"},
       "--xds-listen '127.0.0.1:70000': expected IP:PORT"},
      {{"serve", "--registry", "file:x", "--debounce", "fast"},
       "--debounce 'fast': expected a duration such as 100ms or 2s"},
      {{"serve", "--registry", "file:x", "--xds-listen", "127.0.0.1:1", "--http-listen", "127.0.0.1:2", "--debounce",
        "2s", "--debounce-max", "1s"},
       "--debounce-max must not be less than --debounce"},
      {{"validate", "--registry", "file:x", "--xds-listen", "127.0.0.1:1"},
       "--xds-listen is a flag of serve, not of validate"},
      {{"validate", "--colour", "red"}, "unknown flag '--colour'"},
      {{"validate"}, "--registry is required"},
  };
  for (const auto& [args, error] : cases) {
    const auto p = parseControlOptions(args);
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error, error);
  }
}

// The binary: validate's exit codes and output, --version, bad input.
TEST(ControlBinary, ValidateExitsZeroForTheExample) {
  const auto r = test::runProcess(
      {SLUICE_CONTROL_BINARY, "validate", "--registry", "file:" SLUICE_SOURCE_DIR "/examples/control/registry.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("valid (2 zones, 1 services, 1 gateways)"), std::string::npos) << r.out;
}

TEST(ControlBinary, ValidateExitsOneWithEveryError) {
  const std::string path = ::testing::TempDir() + "/bad-registry.yaml";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("zones: [a]\nservices: [ { name: s, instances: [ { address: x, port: 0, zone: b } ] } ]\n", f);
  std::fclose(f);
  const auto r = test::runProcess({SLUICE_CONTROL_BINARY, "validate", "--registry", "file:" + path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("3 errors"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("services[0].instances[0].address: 'x' is not an IP address"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("services[0].instances[0].port: must be 1..65535 (got 0)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("services[0].instances[0].zone: 'b' is not one of zones"), std::string::npos) << r.err;
}

TEST(ControlBinary, HelpVersionAndBadInput) {
  EXPECT_EQ(test::runProcess({SLUICE_CONTROL_BINARY, "--version"}).out, "sluice-control 0.1.0\n");
  const auto help = test::runProcess({SLUICE_CONTROL_BINARY, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: sluice-control serve"), std::string::npos);
  // Port 1 on loopback: nothing listens, the first read fails on every member.
  const auto bad = test::runProcess({SLUICE_CONTROL_BINARY, "serve", "--registry", "etcd://127.0.0.1:1/x",
                                     "--xds-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("connect 127.0.0.1:1"), std::string::npos) << bad.err;
  const auto no_prefix = test::runProcess({SLUICE_CONTROL_BINARY, "validate", "--registry", "etcd://127.0.0.1:1"});
  EXPECT_EQ(no_prefix.exit_code, 1);
  EXPECT_NE(no_prefix.err.find("no /PREFIX"), std::string::npos) << no_prefix.err;
  const auto missing = test::runProcess({SLUICE_CONTROL_BINARY, "serve", "--registry", "file:/nonexistent.yaml",
                                         "--xds-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent.yaml"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace sluice::control
