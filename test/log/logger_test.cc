// The application log: levels per component, Envoy's --log-format flags, the
// escapes, lazy arguments and the drop counter of the bounded queue.
#include "log/logger.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "log/capture_sink.h"
#include "log/log_format.h"

namespace sluice::log {
namespace {

using ::testing::ElementsAre;
using ::testing::MatchesRegex;

class LoggerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    shutdown();
    setAllLevels(Level::Info);
  }

  std::shared_ptr<CaptureSink> start(std::string format = "%l|%n|%v", bool escaped = false, size_t queue = 64) {
    auto sink = std::make_shared<CaptureSink>();
    Config config;
    config.format = std::move(format);
    config.escaped = escaped;
    config.queue_lines = queue;
    config.sink = sink;
    std::string error;
    EXPECT_TRUE(init(config, error)) << error;
    return sink;
  }
};

TEST(LogLevels, ParsesEnvoyNames) {
  EXPECT_EQ(parseLevel("trace"), Level::Trace);
  EXPECT_EQ(parseLevel("warning"), Level::Warning);
  EXPECT_EQ(parseLevel("critical"), Level::Critical);
  EXPECT_EQ(parseLevel("off"), Level::Off);
  EXPECT_EQ(parseLevel("warn"), std::nullopt);  // /logging takes spdlog's names only
  EXPECT_EQ(parseLevel("warn", true), Level::Warning);
  EXPECT_EQ(parseLevel("err", true), Level::Error);
  EXPECT_EQ(parseLevel("DEBUG"), std::nullopt);
  EXPECT_EQ(parseLevel(""), std::nullopt);
  EXPECT_EQ(levelName(Level::Warning), "warning");
}

TEST(LogLevels, ParsesComponents) {
  for (const auto* name :
       {"admin", "config", "connection", "dns", "http", "main", "pool", "router", "runtime", "upstream"}) {
    const auto component = parseComponent(name);
    ASSERT_TRUE(component) << name;
    EXPECT_EQ(componentName(*component), name);
  }
  EXPECT_EQ(parseComponent("filter"), std::nullopt);
  EXPECT_EQ(parseComponent("Http"), std::nullopt);
}

TEST(LogLevels, DefaultIsInfo) {
  EXPECT_EQ(level(Component::Main), Level::Info);
  EXPECT_TRUE(enabled(Component::Main, Level::Info));
  EXPECT_FALSE(enabled(Component::Main, Level::Debug));
}

TEST_F(LoggerTest, LevelsArePerComponent) {
  setLevel(Component::Connection, Level::Debug);
  EXPECT_TRUE(enabled(Component::Connection, Level::Debug));
  EXPECT_FALSE(enabled(Component::Connection, Level::Trace));
  EXPECT_FALSE(enabled(Component::Http, Level::Debug));
  auto sink = start();
  SLUICE_LOG(http, debug, "not written");
  SLUICE_LOG(connection, debug, "written {}", 1);
  SLUICE_LOG(http, info, "written {}", 2);
  EXPECT_THAT(sink->waitForLines(2), ElementsAre("debug|connection|written 1\n", "info|http|written 2\n"));
}

TEST_F(LoggerTest, SetAllLevelsAndOff) {
  setAllLevels(Level::Error);
  auto sink = start();
  SLUICE_LOG(main, warn, "dropped by level");
  SLUICE_LOG(main, error, "kept");
  setLevel(Component::Main, Level::Off);
  SLUICE_LOG(main, critical, "off");
  setAllLevels(Level::Trace);
  SLUICE_LOG(router, trace, "trace");
  EXPECT_THAT(sink->waitForLines(2), ElementsAre("error|main|kept\n", "trace|router|trace\n"));
}

TEST_F(LoggerTest, DisabledLinesDoNotEvaluateArguments) {
  auto sink = start();
  int evaluated = 0;
  auto expensive = [&] {
    ++evaluated;
    return std::string("value");
  };
  SLUICE_LOG(http, debug, "{}", expensive());
  SLUICE_LOG(pool, trace, "{}", expensive());
  EXPECT_EQ(evaluated, 0);
  setLevel(Component::Http, Level::Debug);
  SLUICE_LOG(http, debug, "{}", expensive());
  EXPECT_EQ(evaluated, 1);
  EXPECT_THAT(sink->waitForLines(1), ElementsAre("debug|http|value\n"));
}

TEST_F(LoggerTest, EnvoyDefaultFormat) {
  auto sink = start(std::string(kDefaultFormat));
  SLUICE_LOG(main, info, "hello {}", "world");
  const auto lines = sink->waitForLines(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], MatchesRegex(R"(\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\])"
                                     R"(\[[0-9]+\]\[info\]\[main\] \[test/log/logger_test\.cc:[0-9]+\] hello world)"
                                     "\n"));
}

TEST_F(LoggerTest, SourceAndProcessFlags) {
  auto sink = start("%s:%# %! %L %P %%");
  SLUICE_LOG(config, warn, "x");
  const auto lines = sink->waitForLines(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], MatchesRegex("logger_test\\.cc:[0-9]+ TestBody W [0-9]+ %\n"));
}

TEST_F(LoggerTest, EnvoyEscapingFlags) {
  auto sink = start("%_|%j|%v");
  SLUICE_LOG(main, info, "a\nb \"q\"\t\\");
  EXPECT_THAT(sink->waitForLines(1), ElementsAre("a\\nb \"q\"\t\\|a\\nb \\\"q\\\"\\t\\\\|a\nb \"q\"\t\\\n"));
}

TEST_F(LoggerTest, EscapedFormatKeepsOneLinePerMessage) {
  auto sink = start("[%n] %v", true);
  SLUICE_LOG(config, warn, "rejected:\n  field 'x'\x01  ");
  // The trailing whitespace (the message's and the line's end) stays as is.
  EXPECT_THAT(sink->waitForLines(1), ElementsAre("[config] rejected:\\n  field \\'x\\'\\001  \n"));
}

TEST(LogFormat, AcceptsEnvoysFlagsAndPadding) {
  EXPECT_EQ(checkFormat(kDefaultFormat), "");
  EXPECT_EQ(checkFormat("%L%m%d %T.%e %t envoy/%@] [%t][%n]%v"), "");  // Envoy's Stackdriver example
  EXPECT_EQ(checkFormat("%a %A %b %B %c %C %D %x %H %I %M %S %f %F %p %r %R %X %z %P %s %g %# %! %_ %j %%"), "");
  EXPECT_EQ(checkFormat("%-8l|%=10n|%5!v|%8t"), "");
  EXPECT_EQ(checkFormat("no flags at all"), "");
}

TEST(LogFormat, RejectsWhatEnvoyDoesNotDocument) {
  EXPECT_THAT(checkFormat("[%Q] %v"), ::testing::HasSubstr("unknown flag '%Q' at offset 1"));
  EXPECT_THAT(checkFormat("%+"), ::testing::HasSubstr("unknown flag '%+'"));
  EXPECT_THAT(checkFormat("%v %"), ::testing::HasSubstr("ends inside the flag '%'"));
  EXPECT_THAT(checkFormat("%-12"), ::testing::HasSubstr("ends inside the flag '%-12'"));
  Config config;
  config.format = "%Q";
  std::string error;
  EXPECT_FALSE(init(config, error));
  EXPECT_THAT(error, ::testing::HasSubstr("%Q"));
}

TEST(LogFormat, Escapes) {
  EXPECT_EQ(escapeC("a\r\n\t\"'\\\x7f\xc3"), "a\\r\\n\\t\\\"\\'\\\\\\177\\303");
  EXPECT_EQ(escapeNewlines("a\nb\tc"), "a\\nb\tc");
  EXPECT_EQ(escapeJson("\"\\\b\f\n\r\t\x01 é"), "\\\"\\\\\\b\\f\\n\\r\\t\\u0001 é");
}

TEST_F(LoggerTest, FullQueueDropsAndCounts) {
  // A queue of 2 lines and a writer held in its first write: of 10 lines, the
  // writer has 1, the queue keeps the newest 2, and 7 are dropped; logging
  // never waits.
  const uint64_t before = dropped();  // the count is the process's
  auto sink = start("%v", false, 2);
  sink->hold();
  SLUICE_LOG(main, info, "line 0");
  ASSERT_TRUE(sink->waitUntilWriterHeld());
  for (int i = 1; i < 10; ++i) SLUICE_LOG(main, info, "line {}", i);
  EXPECT_EQ(dropped() - before, 7u);
  sink->release();
  EXPECT_THAT(sink->waitForLines(3), ElementsAre("line 0\n", "line 8\n", "line 9\n"));
  shutdown();
  EXPECT_EQ(dropped() - before, 7u);  // still counted after the writer stopped
}

TEST_F(LoggerTest, ShutdownWritesWhatIsQueued) {
  auto sink = start();
  for (int i = 0; i < 50; ++i) SLUICE_LOG(upstream, info, "{}", i);
  shutdown();
  EXPECT_EQ(sink->waitForLines(50).size(), 50u);
}

}  // namespace
}  // namespace sluice::log
