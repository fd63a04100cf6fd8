// The writer thread: lines from each producer reach their sink in order, a
// full queue drops and counts, reopen() follows a renamed file.
#include "accesslog/log_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace sluice::accesslog {
namespace {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class LogWriterTest : public ::testing::Test {
 protected:
  LogWriterTest() {
    char pattern[] = "/tmp/sluice-log-writer-XXXXXX";
    dir = mkdtemp(pattern);
  }
  ~LogWriterTest() override { std::filesystem::remove_all(dir); }

  void push(LogWriter& writer, size_t producer, Sink* sink, std::string_view line) {
    std::string* buffer = writer.begin(producer);
    ASSERT_NE(buffer, nullptr);
    *buffer = line;
    writer.commit(producer, sink);
  }

  std::filesystem::path dir;
};

TEST_F(LogWriterTest, LinesFromEachProducerArriveInOrder) {
  LogWriter writer(2, 64);
  std::atomic<uint64_t> refused{0};  // a producer retries; every refusal counts as a drop
  std::string error;
  Sink* sink = writer.fileSink(dir / "a.log", error);
  ASSERT_NE(sink, nullptr) << error;
  std::thread t1([&] {
    for (int i = 0; i < 1000; ++i) {
      std::string* b;
      while ((b = writer.begin(0)) == nullptr) {
        ++refused;
        std::this_thread::yield();
      }
      *b = "a" + std::to_string(i) + "\n";
      writer.commit(0, sink);
    }
  });
  std::thread t2([&] {
    for (int i = 0; i < 1000; ++i) {
      std::string* b;
      while ((b = writer.begin(1)) == nullptr) {
        ++refused;
        std::this_thread::yield();
      }
      *b = "b" + std::to_string(i) + "\n";
      writer.commit(1, sink);
    }
  });
  t1.join();
  t2.join();
  writer.flush();
  std::istringstream lines(readFile(dir / "a.log"));
  int next_a = 0, next_b = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line[0] == 'a') {
      EXPECT_EQ(line, "a" + std::to_string(next_a++));
    } else {
      EXPECT_EQ(line, "b" + std::to_string(next_b++));
    }
  }
  EXPECT_EQ(next_a, 1000);
  EXPECT_EQ(next_b, 1000);
  EXPECT_EQ(writer.counters().write_buffered.load(), 2000u);
  EXPECT_EQ(writer.counters().dropped.load(), refused.load());
}

TEST_F(LogWriterTest, TheSamePathIsTheSameSink) {
  LogWriter writer(1);
  std::string error;
  EXPECT_EQ(writer.fileSink(dir / "a.log", error), writer.fileSink(dir / "a.log", error));
  EXPECT_EQ(writer.stdoutSink(), writer.stdoutSink());
  EXPECT_NE(writer.stdoutSink(), writer.stderrSink());
}

TEST_F(LogWriterTest, AFileThatCannotBeOpenedIsAnError) {
  LogWriter writer(1);
  std::string error;
  EXPECT_EQ(writer.fileSink(dir / "missing" / "a.log", error), nullptr);
  EXPECT_NE(error.find("cannot open"), std::string::npos);
}

TEST_F(LogWriterTest, AFullQueueDropsAndCounts) {
  // A pipe nobody reads blocks the writer thread once the pipe is full, so
  // the queue behind it fills up.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::string path = "/proc/self/fd/" + std::to_string(fds[1]);
  LogWriter writer(1, 4);
  std::string error;
  Sink* sink = writer.fileSink(path, error);
  ASSERT_NE(sink, nullptr) << error;
  const std::string big(1 << 20, 'x');  // larger than the pipe: the writer blocks on the first line
  uint64_t accepted = 0;
  for (int i = 0; i < 100; ++i) {
    std::string* b = writer.begin(0);
    if (b == nullptr) continue;
    *b = big;
    writer.commit(0, sink);
    ++accepted;
  }
  // The ring (4), and what the writer drained before it blocked (at most 4).
  EXPECT_LE(accepted, 8u);
  EXPECT_EQ(writer.droppedBy(0), 100 - accepted);
  EXPECT_EQ(writer.counters().dropped.load(), 100 - accepted);
  // Let the writer finish: drain the pipe until the writer is done.
  std::thread reader([&] {
    char buffer[65536];
    while (read(fds[0], buffer, sizeof buffer) > 0) {
    }
  });
  writer.flush();
  close(fds[1]);
  ::close(sink->fd);  // the writer's own descriptor for the pipe: let the reader see EOF
  sink->fd = -1;
  reader.join();
  close(fds[0]);
}

TEST_F(LogWriterTest, ReopenFollowsARenamedFile) {
  LogWriter writer(1);
  std::string error;
  Sink* sink = writer.fileSink(dir / "a.log", error);
  push(writer, 0, sink, "one\n");
  writer.flush();
  std::filesystem::rename(dir / "a.log", dir / "a.log.1");
  push(writer, 0, sink, "two\n");  // still the old file: not reopened yet
  writer.flush();
  writer.reopen();
  writer.flush();  // the reopen is done: lines queued before it went to the old file
  push(writer, 0, sink, "three\n");
  writer.flush();
  EXPECT_EQ(readFile(dir / "a.log.1"), "one\ntwo\n");
  EXPECT_EQ(readFile(dir / "a.log"), "three\n");
}

}  // namespace
}  // namespace sluice::accesslog
