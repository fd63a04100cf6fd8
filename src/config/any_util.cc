#include "config/any_util.h"

#include <google/protobuf/descriptor.h>

namespace sluice::config {

std::string_view typeNameOfUrl(std::string_view type_url) {
  const auto slash = type_url.rfind('/');
  return slash == std::string_view::npos ? type_url : type_url.substr(slash + 1);
}

const google::protobuf::Descriptor* descriptorForTypeUrl(std::string_view type_url) {
  const auto name = typeNameOfUrl(type_url);
  if (name.empty()) return nullptr;
  return google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(name));
}

std::unique_ptr<google::protobuf::Message> unpackAny(const google::protobuf::Any& any, std::string* error) {
  const auto* descriptor = descriptorForTypeUrl(any.type_url());
  if (descriptor == nullptr) {
    if (error) *error = "unknown type '" + any.type_url() + "'";
    return nullptr;
  }
  const auto* prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
  std::unique_ptr<google::protobuf::Message> message(prototype->New());
  if (!message->ParseFromString(any.value())) {
    if (error) *error = "payload of type '" + any.type_url() + "' does not parse";
    return nullptr;
  }
  return message;
}

}  // namespace sluice::config
