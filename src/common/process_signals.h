// Process-wide signal dispositions set before any thread starts (threads
// inherit them). The signals sluice acts on (SIGTERM, SIGINT, SIGUSR1, SIGHUP)
// are then handled by the main thread's asio::signal_set (server/server.cc).
#pragma once

#include <csignal>

namespace sluice::common {

// SIGPIPE: ignored for the whole process. Every socket write already handles
// EPIPE; a log sink (a pipe, a FIFO, /dev/stdout) whose reader went away
// counts a failed write instead of ending the process.
// SIGHUP: ignored until the server's own handler logs and eats it (Envoy
// does the same), so a HUP during start-up or --mode validate is harmless.
inline void ignoreHangupAndBrokenPipe() {
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
}

}  // namespace sluice::common
