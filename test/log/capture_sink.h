// A sink for the log tests: keeps the formatted lines, lets a test wait for
// them, and can hold the writer thread (to fill the queue). Written by the
// writer thread, read by the test thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/sinks/base_sink.h>

namespace sluice::log {

class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // The lines written so far, once there are at least `n` (or after 10 s, so
  // that a broken logger fails the test instead of hanging it).
  std::vector<std::string> waitForLines(size_t n) {
    std::unique_lock<std::mutex> lock(lines_mutex_);
    lines_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return lines_.size() >= n; });
    return lines_;
  }

  // While held, the writer thread stops in its first write and waits.
  void hold() {
    std::lock_guard<std::mutex> lock(lines_mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(lines_mutex_);
      held_ = false;
    }
    lines_cv_.notify_all();
  }
  // Whether the writer thread is waiting in a held write.
  bool waitUntilWriterHeld() {
    std::unique_lock<std::mutex> lock(lines_mutex_);
    return lines_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return writer_waiting_; });
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t out;
    formatter_->format(msg, out);
    std::unique_lock<std::mutex> lock(lines_mutex_);
    writer_waiting_ = held_;
    lines_cv_.notify_all();
    lines_cv_.wait(lock, [&] { return !held_; });
    writer_waiting_ = false;
    lines_.emplace_back(out.data(), out.size());
    lines_cv_.notify_all();
  }
  void flush_() override {}

 private:
  std::mutex lines_mutex_;
  std::condition_variable lines_cv_;
  std::vector<std::string> lines_;
  bool held_ = false;
  bool writer_waiting_ = false;
};

}  // namespace sluice::log
