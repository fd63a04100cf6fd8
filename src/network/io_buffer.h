// IoBuffer: a contiguous byte buffer with read and write cursors, for socket
// reads. Connections take one from their worker's BufferPool only while they
// have bytes to hold and give it back when it drains, so an idle connection or
// tunnel holds no buffer. Single-threaded (the owning worker).
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace sluice::network {

class IoBuffer {
 public:
  IoBuffer() = default;
  explicit IoBuffer(size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}

  bool allocated() const { return data_ != nullptr; }
  size_t capacity() const { return capacity_; }
  std::string_view readable() const { return {data_.get() + begin_, end_ - begin_}; }
  bool empty() const { return begin_ == end_; }
  size_t size() const { return end_ - begin_; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Room to read into; compacts first when the free tail is small.
  char* writePointer() {
    if (begin_ > 0 && capacity_ - end_ < capacity_ / 4) compact();
    return data_.get() + end_;
  }
  size_t writable() const { return capacity_ - end_; }
  void commit(size_t n) { end_ += n; }
  // Grows to at least `capacity`, keeping the readable bytes.
  void reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    std::unique_ptr<char[]> bigger(new char[capacity]);
    if (!empty()) std::memcpy(bigger.get(), data_.get() + begin_, size());
    end_ = size();
    begin_ = 0;
    data_ = std::move(bigger);
    capacity_ = capacity;
  }
  void reset() { begin_ = end_ = 0; }

 private:
  void compact() {
    if (begin_ == 0) return;
    std::memmove(data_.get(), data_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }

  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// A worker's free list of standard-size buffers.
class BufferPool {
 public:
  static constexpr size_t kBufferSize = 16 * 1024;
  static constexpr size_t kMaxFree = 256;

  IoBuffer take() {
    if (free_.empty()) return IoBuffer(kBufferSize);
    IoBuffer b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  // Takes the buffer back if it is empty and standard-size; frees it otherwise.
  void give(IoBuffer& buffer) {
    if (!buffer.allocated()) return;
    if (buffer.empty() && buffer.capacity() == kBufferSize && free_.size() < kMaxFree) {
      buffer.reset();
      free_.push_back(std::move(buffer));
    }
    buffer = IoBuffer();
  }

 private:
  std::vector<IoBuffer> free_;
};

}  // namespace sluice::network
