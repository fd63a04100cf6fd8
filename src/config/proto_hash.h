// The one change detector for config resources: a 64-bit hash of a message's
// deterministic serialization. SerializeAsString() is not deterministic for
// map fields (their order follows the hash table), so two equal protos could
// compare unequal; this one sorts map entries first. Any thread.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>

namespace sluice::config {

uint64_t protoHash(const google::protobuf::Message& message);

}  // namespace sluice::config
