// Runs a program to completion and captures its exit code and output, for tests
// that exercise the real binaries.
#pragma once

#include <string>
#include <vector>

namespace sluice::test {

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal when killed
  std::string out;
  std::string err;
};

// Runs argv[0] with argv (no shell), feeding nothing on stdin.
ProcessResult runProcess(const std::vector<std::string>& argv);

// A program left running: its stderr is read on demand; SIGTERM and reaped on
// destruction.
class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::vector<std::string>& argv);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Reads stderr until it contains `text`; false if the program exits first.
  bool waitForStderr(const std::string& text);
  const std::string& err() const { return err_; }

 private:
  int pid_ = -1;
  int err_fd_ = -1;
  std::string err_;
};

// One HTTP/1.1 GET to 127.0.0.1:`port` on a fresh connection, read to the
// server's close; the response as received (head and body), "" on failure.
std::string httpGet(int port, const std::string& path);
// The same with POST and an empty body (admin's mutating endpoints).
std::string httpPost(int port, const std::string& path);
std::string httpRequest(int port, const std::string& method, const std::string& path);

}  // namespace sluice::test
