// Command-line parsing: Envoy's flag names, values, and errors.
#include "server/options.h"

#include <gtest/gtest.h>

namespace sluice::server {
namespace {

TEST(Options, ParsesEveryFlag) {
  const auto r = parseOptions({"-c",
                               "a.yaml",
                               "--config-yaml",
                               "node: {id: x}",
                               "--mode",
                               "validate",
                               "--concurrency",
                               "3",
                               "-l",
                               "debug",
                               "--component-log-level",
                               "upstream:trace,http:warn",
                               "--service-node",
                               "n",
                               "--service-cluster",
                               "c",
                               "--service-zone",
                               "z",
                               "--drain-time-s",
                               "5",
                               "--parent-shutdown-time-s",
                               "7",
                               "--base-id",
                               "2",
                               "--restart-epoch",
                               "1",
                               "--admin-address-path",
                               "/tmp/a"});
  ASSERT_EQ(r.outcome, ParseOutcome::Run) << r.message;
  const auto& o = r.options;
  EXPECT_EQ(o.config_path, "a.yaml");
  EXPECT_EQ(o.config_yaml, "node: {id: x}");
  EXPECT_EQ(o.mode, Mode::Validate);
  EXPECT_EQ(o.concurrency, 3u);
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_EQ(o.component_log_levels.at("upstream"), "trace");
  EXPECT_EQ(o.component_log_levels.at("http"), "warning");
  EXPECT_EQ(o.service_node, "n");
  EXPECT_EQ(o.service_cluster, "c");
  EXPECT_EQ(o.service_zone, "z");
  EXPECT_EQ(o.drain_time_s, 5u);
  EXPECT_EQ(o.parent_shutdown_time_s, 7u);
  EXPECT_EQ(o.base_id, 2u);
  EXPECT_EQ(o.restart_epoch, 1u);
  EXPECT_EQ(o.admin_address_path, "/tmp/a");
}

TEST(Options, AcceptsFlagEqualsValue) {
  const auto r = parseOptions({"--config-path=a.yaml", "--mode=validate"});
  ASSERT_EQ(r.outcome, ParseOutcome::Run) << r.message;
  EXPECT_EQ(r.options.config_path, "a.yaml");
}

TEST(Options, UsesEnvoyDefaults) {
  const auto r = parseOptions({"-c", "a.yaml"});
  ASSERT_EQ(r.outcome, ParseOutcome::Run);
  EXPECT_EQ(r.options.mode, Mode::Serve);
  EXPECT_EQ(r.options.log_level, "info");
  EXPECT_EQ(r.options.drain_time_s, 600u);
  EXPECT_EQ(r.options.parent_shutdown_time_s, 900u);
  EXPECT_GE(r.options.concurrency, 1u);
}

TEST(Options, LogFlags) {
  const auto r = parseOptions(
      {"-c", "a.yaml", "--log-format", "%l|%n|%v", "--log-format-escaped", "--log-path", "/tmp/sluice.log"});
  ASSERT_EQ(r.outcome, ParseOutcome::Run) << r.message;
  EXPECT_EQ(r.options.log_format, "%l|%n|%v");
  EXPECT_TRUE(r.options.log_format_escaped);
  EXPECT_EQ(r.options.log_path, "/tmp/sluice.log");
}

TEST(Options, LogDefaultsAreEnvoys) {
  const auto r = parseOptions({"-c", "a.yaml"});
  ASSERT_EQ(r.outcome, ParseOutcome::Run) << r.message;
  EXPECT_EQ(r.options.log_format, "[%Y-%m-%d %T.%e][%t][%l][%n] [%g:%#] %v");
  EXPECT_FALSE(r.options.log_format_escaped);
  EXPECT_EQ(r.options.log_path, "");
}

TEST(Options, HelpAndVersion) {
  EXPECT_EQ(parseOptions({"--help"}).outcome, ParseOutcome::PrintedHelp);
  EXPECT_EQ(parseOptions({"-h"}).outcome, ParseOutcome::PrintedHelp);
  const auto v = parseOptions({"--version"});
  EXPECT_EQ(v.outcome, ParseOutcome::PrintedVersion);
  EXPECT_EQ(v.message.rfind("sluice version: ", 0), 0u);
}

struct BadFlags {
  std::vector<std::string> args;
  std::string message;
};

class RejectsBadFlags : public testing::TestWithParam<BadFlags> {};

TEST(Options, RouteCheckFlags) {
  const auto r = parseOptions({"-c", "a.yaml", "--mode", "route-check", "-t", "t.yaml", "--route-config", "rc", "-d",
                               "--only-show-failures", "--coverage", "--covall", "--detailed-coverage", "-f", "87.5"});
  ASSERT_EQ(r.outcome, ParseOutcome::Run) << r.message;
  const auto& rc = r.options.route_check;
  EXPECT_EQ(r.options.mode, Mode::RouteCheck);
  EXPECT_EQ(rc.tests_path, "t.yaml");
  EXPECT_EQ(rc.route_config, "rc");
  EXPECT_TRUE(rc.details && rc.only_show_failures && rc.coverage && rc.comprehensive && rc.detailed_coverage);
  EXPECT_EQ(rc.fail_under, 87.5);
  const auto defaults = parseOptions({"-c", "a.yaml", "--mode=route-check", "--tests=t.json"});
  ASSERT_EQ(defaults.outcome, ParseOutcome::Run) << defaults.message;
  EXPECT_EQ(defaults.options.route_check.tests_path, "t.json");
  EXPECT_FALSE(defaults.options.route_check.details || defaults.options.route_check.coverage);
  EXPECT_FALSE(defaults.options.route_check.fail_under.has_value());
}

TEST_P(RejectsBadFlags, WithAMessage) {
  const auto r = parseOptions(GetParam().args);
  EXPECT_EQ(r.outcome, ParseOutcome::Error);
  EXPECT_EQ(r.message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Options, RejectsBadFlags,
    testing::Values(
        BadFlags{{"--bogus"}, "error: unknown flag '--bogus'"}, BadFlags{{"-c"}, "error: --config-path needs a value"},
        BadFlags{{"-c", "a", "--mode", "check"}, "error: --mode expects serve, validate or route-check, got 'check'"},
        BadFlags{{"-c", "a", "--mode", "route-check"},
                 "error: --mode route-check needs --tests FILE (the route tests, YAML or JSON)"},
        BadFlags{{"-c", "a", "--coverage"}, "error: --coverage is a flag of --mode route-check"},
        BadFlags{{"-c", "a", "-t", "t.yaml"}, "error: --test-path is a flag of --mode route-check"},
        BadFlags{{"-c", "a", "--mode", "route-check", "--tests", "t", "--fail-under", "101"},
                 "error: --fail-under expects a percentage from 0 to 100, got '101'"},
        BadFlags{{"-c", "a", "--mode", "route-check", "--tests", "t", "-f", "x"},
                 "error: --fail-under expects a percentage from 0 to 100, got 'x'"},
        BadFlags{{"-c", "a", "--mode", "route-check", "--tests", "t", "--details=1"},
                 "error: --details takes no value"},
        BadFlags{{"-c", "a", "--concurrency", "0"}, "error: --concurrency expects a positive integer, got '0'"},
        BadFlags{{"-c", "a", "--concurrency", "-2"}, "error: --concurrency expects a positive integer, got '-2'"},
        BadFlags{{"-c", "a", "-l", "loud"}, "error: --log-level unknown level 'loud'"},
        BadFlags{{"-c", "a", "--component-log-level", "upstream"},
                 "error: --component-log-level expects COMPONENT:LEVEL, got 'upstream'"},
        BadFlags{{"-c", "a", "--component-log-level", "nope:info"},
                 "error: --component-log-level unknown component 'nope'"},
        BadFlags{{"-c", "a", "--drain-time-s", "soon"},
                 "error: --drain-time-s expects a non-negative integer, got 'soon'"},
        BadFlags{{"--mode", "validate"}, "error: no configuration: give -c FILE or --config-yaml STRING"},
        BadFlags{{"--version=2"}, "error: --version takes no value"},
        BadFlags{{"-c", "a", "--log-format-escaped=1"}, "error: --log-format-escaped takes no value"},
        BadFlags{{"-c", "a", "--log-format", "%v %"}, "error: --log-format ends inside the flag '%'"},
        BadFlags{{"-c", "a", "--log-format", "%Y %k"},
                 "error: --log-format has an unknown flag '%k' at offset 3 (flags: %v %_ %j %t %P %n %l %L %a %A %b "
                 "%B %c %C %Y %D %x %m %d %H %I %M %S %e %f %F %p %r %R %T %X %z %% %@ %s %g %# %!)"}));

}  // namespace
}  // namespace sluice::server
