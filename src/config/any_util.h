// Resolving `google.protobuf.Any` (typed configs) by type URL against the
// compiled Envoy API. Used by config loading and validation, main thread only.
#pragma once

#include <google/protobuf/any.pb.h>
#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <string_view>

namespace sluice::config {

// The message type named by a type URL (`type.googleapis.com/envoy.x.v3.Y`,
// any prefix up to the last '/'), or nullptr when sluice's build does not know it.
const google::protobuf::Descriptor* descriptorForTypeUrl(std::string_view type_url);

// The full type name in a type URL: the part after the last '/'.
std::string_view typeNameOfUrl(std::string_view type_url);

// Unpacks `any` into a new message of its type. nullptr when the type is
// unknown or the payload does not parse; `error` then says which.
std::unique_ptr<google::protobuf::Message> unpackAny(const google::protobuf::Any& any, std::string* error);

}  // namespace sluice::config
