// Helpers shared by the protoc-gen-validate tests: error formatting and
// message types defined at test time for the rules no Envoy message uses.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/pgv_validator.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/address.pb.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/core/v3/config_source.pb.h"
#include "envoy/config/core/v3/health_check.pb.h"
#include "envoy/config/core/v3/protocol.pb.h"
#include "envoy/config/core/v3/udp_socket_config.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/metrics/v3/stats.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/common.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"
#include "envoy/type/v3/percent.pb.h"
#include "xds/type/matcher/v3/matcher.pb.h"

namespace sluice::config {
namespace {

using google::protobuf::Message;
using google::protobuf::TextFormat;

// All errors, one a line (no trailing newline), or "" when valid.
inline std::string errorsOf(const Message& message, std::string_view path = "") {
  ErrorList errors;
  validateRules(message, path, errors);
  std::string out = errors.toString();
  if (!out.empty()) out.pop_back();
  return out;
}
inline std::string errorsOf(const std::unique_ptr<Message>& message) { return errorsOf(*message); }

template <typename T>
T parse(std::string_view text) {
  T message;
  if (!TextFormat::ParseFromString(std::string(text), &message)) throw std::runtime_error("bad text proto");
  return message;
}

// Message types defined at test time, for the rules no compiled Envoy message
// uses. Each type lives in its own proto3 file in a pool layered over the
// generated one (so validate.proto's options and the well-known types
// resolve). Owns the messages' factory: one instance for the whole test run.
class TestTypes {
 public:
  static TestTypes& get() {
    static TestTypes types;
    return types;
  }

  // A new message of type `pgvtest.M<n>`, whose DescriptorProto body is `body`
  // (`$M` stands for the type's full name), parsed from `value`.
  std::unique_ptr<Message> make(std::string body, std::string_view value) {
    const std::string name = "M" + std::to_string(next_++);
    for (size_t at = body.find("$M"); at != std::string::npos; at = body.find("$M")) {
      body.replace(at, 2, ".pgvtest." + name);
    }
    const auto file = parse<google::protobuf::FileDescriptorProto>(
        "name: 'pgvtest/" + name + ".proto' package: 'pgvtest' syntax: 'proto3' " +
        "dependency: 'validate/validate.proto' dependency: 'google/protobuf/any.proto' " +
        "dependency: 'google/protobuf/duration.proto' dependency: 'google/protobuf/timestamp.proto' " +
        "dependency: 'google/protobuf/wrappers.proto' dependency: 'envoy/type/v3/percent.proto' " +
        "message_type { name: '" + name + "' " + body + " }");
    const auto* built = pool_.BuildFile(file);
    if (built == nullptr) throw std::runtime_error("bad test type: " + body);
    std::unique_ptr<Message> message(factory_.GetPrototype(built->message_type(0))->New());
    if (!TextFormat::ParseFromString(std::string(value), message.get())) {
      throw std::runtime_error("bad value: " + std::string(value));
    }
    return message;
  }

 private:
  TestTypes() { factory_.SetDelegateToGeneratedFactory(true); }

  google::protobuf::DescriptorPool pool_{google::protobuf::DescriptorPool::generated_pool()};
  google::protobuf::DynamicMessageFactory factory_{&pool_};
  int next_ = 0;
};

// A message with one field `v`: `type` is its FieldDescriptorProto type (and
// label) text, `rules` the text of its validate.FieldRules; parsed from `value`.
inline std::unique_ptr<Message> withField(std::string_view type, std::string_view rules, std::string_view value) {
  return TestTypes::get().make("field { name: 'v' number: 1 " + std::string(type) + " options { [validate.rules] { " +
                                   std::string(rules) + " } } }",
                               value);
}

// A message with one map field `v` (map<key, value>, the types as in
// withField) carrying `rules`.
inline std::unique_ptr<Message> withMap(std::string_view key, std::string_view value, std::string_view rules,
                                        std::string_view text) {
  return TestTypes::get().make(
      "nested_type { name: 'VEntry' options { map_entry: true } field { name: 'key' number: 1 " + std::string(key) +
          " } field { name: 'value' number: 2 " + std::string(value) +
          " } } field { name: 'v' number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: '$M.VEntry' "
          "options { [validate.rules] { " +
          std::string(rules) + " } } }",
      text);
}

constexpr std::string_view kInt32 = "type: TYPE_INT32";
constexpr std::string_view kString = "type: TYPE_STRING";
constexpr std::string_view kBytes = "type: TYPE_BYTES";
constexpr std::string_view kRepeatedString = "label: LABEL_REPEATED type: TYPE_STRING";
constexpr std::string_view kDuration = "type: TYPE_MESSAGE type_name: '.google.protobuf.Duration'";
constexpr std::string_view kTimestamp = "type: TYPE_MESSAGE type_name: '.google.protobuf.Timestamp'";
constexpr std::string_view kAny = "type: TYPE_MESSAGE type_name: '.google.protobuf.Any'";
constexpr std::string_view kPercent = "type: TYPE_MESSAGE type_name: '.envoy.type.v3.Percent'";
constexpr std::string_view kRepeatedPercent =
    "label: LABEL_REPEATED type: TYPE_MESSAGE type_name: '.envoy.type.v3.Percent'";
constexpr std::string_view kDenominator =
    "type: TYPE_ENUM type_name: '.envoy.type.v3.FractionalPercent.DenominatorType'";

}  // namespace
}  // namespace sluice::config
