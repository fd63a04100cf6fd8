// StreamState: where a connection's current stream is in its life, as one
// phase instead of a row of flags. HTTP/1 carries one stream at a time, so a
// connection holds one; the transitions assert their order (a programmer
// error otherwise). Plain data; the owning connection's worker thread.
//
//   None --first byte--> ReadingHead --head complete--> Active --101--> Tunnel
//    ^  \--nothing buffered--> Idle --first byte--^        |             |
//    +------------------------ end() -----------------------+---- end() -+
#pragma once

#include <cassert>
#include <cstdint>

namespace sluice::proxy {

class StreamState {
 public:
  enum class Phase : uint8_t {
    None,         // no stream: one ended (or none began) and nothing decided yet
    Idle,         // no stream and no byte buffered: waiting for a request (a drain closes now)
    ReadingHead,  // a request's first byte arrived; its head is being read (its timeouts run)
    Active,       // the head is complete: answered locally or forwarded
    Tunnel,       // after a 101: bytes copied both ways until both sides end
  };

  Phase phase() const { return phase_; }
  // Waiting for a request with nothing buffered: idle. (A stream that began
  // keeps its phase: its bytes are buffered.)
  void waitingWithNothingBuffered() {
    if (phase_ == Phase::None) phase_ = Phase::Idle;
  }
  void firstByte() {
    assert(phase_ == Phase::None || phase_ == Phase::Idle);
    phase_ = Phase::ReadingHead;
  }
  void headComplete() {
    assert(phase_ == Phase::ReadingHead);
    phase_ = Phase::Active;
  }
  void startTunnel() {
    assert(phase_ == Phase::Active);
    phase_ = Phase::Tunnel;
  }
  // Both tunnel directions ended: the stream finishes as an answered one.
  void tunnelEnded() {
    assert(phase_ == Phase::Tunnel);
    phase_ = Phase::Active;
  }
  // The stream is done with (answered, logged); the next may begin.
  void end() { phase_ = Phase::None; }

  bool idle() const { return phase_ == Phase::Idle; }
  // A request's first byte has arrived and the stream has not ended.
  bool started() const { return phase_ == Phase::ReadingHead || phase_ == Phase::Active || phase_ == Phase::Tunnel; }
  bool tunnelling() const { return phase_ == Phase::Tunnel; }

 private:
  Phase phase_ = Phase::None;
};

}  // namespace sluice::proxy
