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

}  // namespace sluice::test
