#include "accesslog/log_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "accesslog/grpc_access_log.h"

namespace sluice::accesslog {
namespace {

size_t roundUpToPowerOfTwo(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

// O_NONBLOCK for the open only: a FIFO (or /dev/stdout on a pipe) without a
// reader fails with ENXIO instead of blocking the thread that opens it (the
// main thread at a config compile, the writer at a reopen). Writes block, as
// they do to a file; the workers never wait for them (see the header).
int openForAppend(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace

LogWriter::LogWriter(size_t producers, size_t capacity)
    : capacity_(roundUpToPowerOfTwo(std::max<size_t>(capacity, 2))) {
  for (size_t i = 0; i < producers; ++i) {
    auto q = std::make_unique<Queue>();
    q->slots = std::make_unique<Slot[]>(capacity_);
    queues_.push_back(std::move(q));
  }
}

LogWriter::~LogWriter() {
  if (thread_.joinable()) {
    stop_.store(true);
    wake();
    thread_.join();
  }
  for (auto& sink : sinks_) {
    if (sink->kind == Sink::Kind::kFile && sink->fd >= 0) ::close(sink->fd);
  }
}

void LogWriter::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

Sink* LogWriter::addSink(std::unique_ptr<Sink> sink) {
  std::lock_guard lock(sinks_mutex_);
  sinks_.push_back(std::move(sink));
  start();
  return sinks_.back().get();
}

Sink* LogWriter::fileSink(const std::string& path, std::string& error) {
  {
    std::lock_guard lock(sinks_mutex_);
    for (auto& s : sinks_) {
      if (s->kind == Sink::Kind::kFile && s->path == path) return s.get();
    }
  }
  const int fd = openForAppend(path);
  if (fd < 0) {
    error = "cannot open '" + path + "' for appending: " + std::strerror(errno);
    return nullptr;
  }
  return addSink(std::make_unique<Sink>(Sink{Sink::Kind::kFile, path, fd, {}, nullptr}));
}

Sink* LogWriter::stdoutSink() {
  {
    std::lock_guard lock(sinks_mutex_);
    for (auto& s : sinks_) {
      if (s->kind == Sink::Kind::kStdout) return s.get();
    }
  }
  return addSink(std::make_unique<Sink>(Sink{Sink::Kind::kStdout, "", STDOUT_FILENO, {}, nullptr}));
}

Sink* LogWriter::stderrSink() {
  {
    std::lock_guard lock(sinks_mutex_);
    for (auto& s : sinks_) {
      if (s->kind == Sink::Kind::kStderr) return s.get();
    }
  }
  return addSink(std::make_unique<Sink>(Sink{Sink::Kind::kStderr, "", STDERR_FILENO, {}, nullptr}));
}

Sink* LogWriter::grpcSink(const std::string& key, const std::function<std::unique_ptr<GrpcLogClient>()>& make) {
  {
    std::lock_guard lock(sinks_mutex_);
    for (auto& s : sinks_) {
      if (s->kind == Sink::Kind::kGrpc && s->path == key) return s.get();
    }
  }
  auto sink = std::make_unique<Sink>(Sink{Sink::Kind::kGrpc, key, -1, {}, nullptr});
  sink->grpc = make();
  return addSink(std::move(sink));
}

std::string* LogWriter::begin(size_t producer) {
  Queue& q = *queues_[producer];
  const uint64_t tail = q.tail.load(std::memory_order_relaxed);
  if (tail - q.cached_head >= capacity_) {
    q.cached_head = q.head.load(std::memory_order_acquire);
    if (tail - q.cached_head >= capacity_) {
      q.dropped.fetch_add(1, std::memory_order_relaxed);
      counters_.dropped.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
  }
  q.filling = tail;
  std::string& line = q.slots[tail & (capacity_ - 1)].line;
  line.clear();
  return &line;
}

void LogWriter::commit(size_t producer, Sink* sink) {
  Queue& q = *queues_[producer];
  q.slots[q.filling & (capacity_ - 1)].sink = sink;
  // seq_cst: pairs with the writer's store to sleeping_ then load of tail
  // (either the writer sees this line, or this thread sees it sleeping).
  q.tail.store(q.filling + 1, std::memory_order_seq_cst);
  counters_.write_buffered.fetch_add(1, std::memory_order_relaxed);
  if (sleeping_.load(std::memory_order_seq_cst)) wake();
}

uint64_t LogWriter::droppedBy(size_t producer) const {
  return queues_[producer]->dropped.load(std::memory_order_relaxed);
}

void LogWriter::wake() {
  wake_seq_.fetch_add(1, std::memory_order_seq_cst);
  wake_seq_.notify_one();
}

void LogWriter::reopen() {
  reopen_.store(true);
  wake();
}

void LogWriter::flush() {
  if (!thread_.joinable()) return;
  // A round that starts after this call drains everything queued before it.
  const uint64_t target = rounds_.load() + 2;
  for (;;) {
    const uint64_t done = rounds_.load();
    if (done >= target) return;
    wake();
    rounds_.wait(done);
  }
}

bool LogWriter::anyQueued() const {
  for (const auto& q : queues_) {
    if (q->tail.load(std::memory_order_seq_cst) != q->head.load(std::memory_order_relaxed)) return true;
  }
  return false;
}

// Moves every queued line into its sink's pending buffer.
bool LogWriter::drainOnce() {
  bool any = false;
  for (auto& q : queues_) {
    const uint64_t head = q->head.load(std::memory_order_relaxed);
    const uint64_t tail = q->tail.load(std::memory_order_acquire);
    if (head == tail) continue;
    any = true;
    for (uint64_t i = head; i != tail; ++i) {
      Slot& slot = q->slots[i & (capacity_ - 1)];
      if (slot.sink->pending.empty()) dirty_.push_back(slot.sink);
      slot.sink->pending += slot.line;
    }
    q->head.store(tail, std::memory_order_release);
  }
  return any;
}

void LogWriter::writeAll(Sink& sink) {
  if (sink.kind == Sink::Kind::kGrpc) {
    sink.grpc->enqueue(sink.pending);  // its own thread sends them
    sink.pending.clear();
    if (sink.pending.capacity() > (1u << 20)) sink.pending.shrink_to_fit();
    return;
  }
  size_t offset = 0;
  while (offset < sink.pending.size()) {
    const ssize_t n = ::write(sink.fd, sink.pending.data() + offset, sink.pending.size() - offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      counters_.write_failed.fetch_add(1, std::memory_order_relaxed);
      break;
    }
    offset += static_cast<size_t>(n);
  }
  if (offset == sink.pending.size()) counters_.write_completed.fetch_add(1, std::memory_order_relaxed);
  sink.pending.clear();
  // A burst may have grown the buffer a lot: do not keep it forever.
  if (sink.pending.capacity() > (1u << 20)) sink.pending.shrink_to_fit();
}

void LogWriter::reopenFiles() {
  std::lock_guard lock(sinks_mutex_);
  for (auto& s : sinks_) {
    if (s->kind != Sink::Kind::kFile) continue;
    const int fd = openForAppend(s->path);
    if (fd < 0) {
      counters_.reopen_failed.fetch_add(1, std::memory_order_relaxed);
      continue;  // keep writing to the old file rather than lose lines
    }
    ::close(s->fd);
    s->fd = fd;
  }
}

void LogWriter::run() {
  for (;;) {
    // Read before the round: a wake() during the round (flush() waiting for
    // the next one) makes the wait below return at once instead of being lost.
    const uint32_t seen = wake_seq_.load();
    // Lines drained before a reopen belong to the old file: write them first.
    const bool reopen = reopen_.exchange(false);
    drainOnce();
    for (Sink* sink : dirty_) writeAll(*sink);
    dirty_.clear();
    if (reopen) reopenFiles();
    rounds_.fetch_add(1);
    rounds_.notify_all();
    if (stop_.load()) {
      if (!anyQueued()) return;
      continue;
    }
    sleeping_.store(true, std::memory_order_seq_cst);
    if (!anyQueued() && !reopen_.load() && !stop_.load()) wake_seq_.wait(seen);
    sleeping_.store(false, std::memory_order_relaxed);
  }
}

}  // namespace sluice::accesslog
