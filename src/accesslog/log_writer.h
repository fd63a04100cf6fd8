// LogWriter: the one thread that writes access-log lines, so that no worker
// ever blocks on a file, a pipe or a terminal.
//
// Each worker (a producer) owns a bounded single-producer/single-consumer
// ring of line buffers. At the end of a stream the worker formats its line
// straight into the next free slot (the slot's string keeps its capacity, so
// a warmed-up ring allocates nothing) and publishes it with one atomic store.
// When the ring is full the line is dropped and counted: a slow disk costs
// log lines, never latency. The writer thread drains every ring, batches the
// lines per sink and write(2)s each batch; it sleeps on a futex (C++20 atomic
// wait) when there is nothing to do, and producers wake it only when it
// sleeps. No mutex is taken on the request path.
//
// Sinks (a file, stdout, stderr) are created on the main thread while a config
// is compiled and live as long as the writer; the same path gives the same
// sink, so a config reload keeps the open file. reopen() (SIGUSR1) makes the
// writer close and reopen every file sink before its next write (logrotate).
// A sink that fails is never fatal: a write error (EPIPE when the reader of a
// pipe or FIFO left; SIGPIPE is ignored process-wide) loses that batch and
// counts write_failed, a reopen that fails (a FIFO without a reader: ENXIO,
// files are opened non-blocking) keeps the old descriptor and counts
// reopen_failed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "envoy/extensions/access_loggers/grpc/v3/als.pb.h"

namespace sluice::accesslog {

class GrpcLogClient;

// Where lines go. Owned by the LogWriter; its fields are the writer thread's.
struct Sink {
  enum class Kind { kFile, kStdout, kStderr, kGrpc } kind;
  std::string path;                     // kFile; kGrpc: the client's key
  int fd = -1;                          // open descriptor (1 or 2 for the streams)
  std::string pending;                  // lines drained but not yet written (kGrpc: length-framed entries)
  std::unique_ptr<GrpcLogClient> grpc;  // kGrpc: the access-log service client the entries go to
};

class LogWriter {
 public:
  // Lines each worker may have queued before new ones are dropped.
  static constexpr size_t kDefaultQueueCapacity = 4096;

  // Counters, readable from any thread (relaxed). Named as Envoy's stats would
  // be once stats exist (issue 4 point 2): filesystem.write_buffered,
  // filesystem.write_completed, filesystem.write_failed,
  // filesystem.reopen_failed, and sluice's own access_log.dropped (Envoy
  // buffers without bound instead of dropping).
  struct Counters {
    std::atomic<uint64_t> write_buffered{0};   // lines queued (all workers)
    std::atomic<uint64_t> dropped{0};          // lines dropped: a queue was full (all workers)
    std::atomic<uint64_t> write_completed{0};  // successful write(2) calls
    std::atomic<uint64_t> write_failed{0};     // failed write(2) calls (the batch is lost)
    std::atomic<uint64_t> reopen_failed{0};    // a file could not be reopened (the old one stays)
  };

  // `producers`: one queue each (the worker count).
  explicit LogWriter(size_t producers, size_t capacity = kDefaultQueueCapacity);
  ~LogWriter();  // writes what is queued, then stops the thread
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // --- main thread ---
  // The sink writing to `path` (created and opened on first use; nullptr and
  // `error` set when the file cannot be opened).
  Sink* fileSink(const std::string& path, std::string& error);
  Sink* stdoutSink();
  Sink* stderrSink();
  // The sink of the gRPC access-log service client keyed `key` (same key,
  // same client and stream): `make` creates it on first use.
  Sink* grpcSink(const std::string& key, const std::function<std::unique_ptr<GrpcLogClient>()>& make);
  // How the server makes a client for a CommonGrpcAccessLogConfig (its
  // cluster's endpoints, the node, the stats); unset: no gRPC sink can be made.
  using GrpcFactory = std::function<std::unique_ptr<GrpcLogClient>(
      const envoy::extensions::access_loggers::grpc::v3::CommonGrpcAccessLogConfig&)>;
  void setGrpcFactory(GrpcFactory factory) { grpc_factory_ = std::move(factory); }
  const GrpcFactory& grpcFactory() const { return grpc_factory_; }

  // --- producer `producer` only ---
  // The buffer of the next free slot, cleared; nullptr when the queue is full
  // (the line is counted as dropped). Fill it, then commit().
  std::string* begin(size_t producer);
  void commit(size_t producer, Sink* sink);

  // --- any thread ---
  // Reopen every file sink before the next write (SIGUSR1).
  void reopen();
  // Blocks until every line queued before the call has been written.
  void flush();
  const Counters& counters() const { return counters_; }
  uint64_t droppedBy(size_t producer) const;

 private:
  struct Slot {
    Sink* sink = nullptr;
    std::string line;
  };
  struct alignas(64) Queue {
    std::unique_ptr<Slot[]> slots;
    alignas(64) std::atomic<uint64_t> tail{0};  // next slot to fill (producer)
    alignas(64) std::atomic<uint64_t> head{0};  // next slot to drain (writer)
    uint64_t cached_head = 0;                   // producer's last view of head
    uint64_t filling = 0;                       // producer: slot handed out by begin()
    std::atomic<uint64_t> dropped{0};
  };

  void start();
  void run();
  bool drainOnce();
  bool anyQueued() const;
  void writeAll(Sink& sink);
  void reopenFiles();
  void wake();
  Sink* addSink(std::unique_ptr<Sink> sink);

  const size_t capacity_;  // a power of two
  std::vector<std::unique_ptr<Queue>> queues_;
  std::mutex sinks_mutex_;  // main thread adds sinks, the writer reopens them: never on the request path
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::vector<Sink*> dirty_;  // writer thread: sinks with pending lines
  Counters counters_;
  GrpcFactory grpc_factory_;
  std::atomic<uint32_t> wake_seq_{0};
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> reopen_{false};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> rounds_{0};  // completed drain-and-write rounds
  std::thread thread_;
};

}  // namespace sluice::accesslog
