#include "config/yaml_to_proto.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/field_mask_util.h>
#include <google/protobuf/util/time_util.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/utf8.h"
#include "config/any_util.h"
#include "config/input_limits.h"

namespace sluice::config {
namespace {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;

// yaml-cpp passes any bytes through, but a proto3 string must be UTF-8:
// protobuf refuses to parse one that is not, so an invalid string in a typed
// config would come back as an unparseable payload far from its field.
constexpr std::string_view kNotUtf8 = "not valid UTF-8 (strings must be; raw bytes go base64-encoded in bytes fields)";

// yaml-cpp tags quoted scalars "!" and plain scalars "?": a quoted "123" is a
// string in Struct values, as in JSON.
bool isQuoted(const YAML::Node& node) { return node.Tag() == "!"; }

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    default:
      return "nothing";
  }
}

// Converts one YAML document subtree; `errors_` collects, conversion goes on.
class Converter {
 public:
  explicit Converter(ErrorList& errors) : errors_(errors) {}

  // `in_any`: the map is an Any's body, whose "@type" key is not a field.
  void message(const YAML::Node& node, pb::Message& msg, const std::string& path, bool in_any = false) {
    const auto* descriptor = msg.GetDescriptor();
    if (wellKnown(node, msg, path)) return;
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      errors_.add(path, "expected a map for " + descriptor->full_name() + ", got " + describe(node));
      return;
    }
    if (descriptor->full_name() == "google.protobuf.Any") {
      any(node, msg, path);
      return;
    }
    std::set<int> seen;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        errors_.add(path, "field names must be strings, got " + describe(entry.first));
        continue;
      }
      const std::string& key = entry.first.Scalar();
      if (in_any && key == "@type") continue;
      const FD* field = findField(descriptor, key);
      if (field == nullptr) {
        errors_.add(childPath(path, key), "unknown field (" + descriptor->full_name() + " has no field '" + key + "')");
        continue;
      }
      const std::string field_path = childPath(path, field->name());
      if (!seen.insert(field->number()).second) {
        errors_.add(field_path, "is set more than once");
        continue;
      }
      if (entry.second.IsNull() && field->message_type() == nullptr) continue;  // null: the default
      if (entry.second.IsNull() && field->message_type()->full_name() != "google.protobuf.Value") continue;
      if (const auto* oneof = field->real_containing_oneof()) {
        const FD* other = msg.GetReflection()->GetOneofFieldDescriptor(msg, oneof);
        if (other != nullptr) {
          errors_.add(field_path, "conflicts with '" + other->name() + "': both are in oneof '" + oneof->name() +
                                      "', set only one");
          continue;
        }
      }
      fieldValue(entry.second, msg, field, field_path);
    }
  }

 private:
  static const FD* findField(const pb::Descriptor* descriptor, const std::string& key) {
    if (const FD* f = descriptor->FindFieldByName(key)) return f;
    for (int i = 0; i < descriptor->field_count(); ++i) {
      if (descriptor->field(i)->json_name() == key) return descriptor->field(i);
    }
    return nullptr;
  }

  void fieldValue(const YAML::Node& node, pb::Message& msg, const FD* field, const std::string& path) {
    if (field->is_map()) {
      mapValue(node, msg, field, path);
    } else if (field->is_repeated()) {
      if (!node.IsSequence()) {
        errors_.add(path, "expected a list, got " + describe(node));
        return;
      }
      for (size_t i = 0; i < node.size(); ++i) {
        element(node[i], msg, field, indexPath(path, i), /*repeated=*/true);
      }
    } else {
      element(node, msg, field, path, /*repeated=*/false);
    }
  }

  void mapValue(const YAML::Node& node, pb::Message& msg, const FD* field, const std::string& path) {
    if (!node.IsMap()) {
      errors_.add(path, "expected a map, got " + describe(node));
      return;
    }
    const FD* key_field = field->message_type()->map_key();
    const FD* value_field = field->message_type()->map_value();
    std::set<std::string> keys;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        errors_.add(path, "map keys must be scalars, got " + describe(entry.first));
        continue;
      }
      const std::string& key = entry.first.Scalar();
      const std::string entry_path = keyPath(path, key);
      if (!keys.insert(key).second) {
        errors_.add(entry_path, "duplicate map key");
        continue;
      }
      pb::Message* map_entry = msg.GetReflection()->AddMessage(&msg, field);
      element(entry.first, *map_entry, key_field, entry_path, false);
      element(entry.second, *map_entry, value_field, entry_path, false);
    }
  }

  // Sets one value of `field` (appends when `repeated`).
  void element(const YAML::Node& node, pb::Message& msg, const FD* field, const std::string& path, bool repeated) {
    const pb::Reflection* r = msg.GetReflection();
    if (field->cpp_type() == FD::CPPTYPE_MESSAGE) {
      pb::Message* sub = repeated ? r->AddMessage(&msg, field) : r->MutableMessage(&msg, field);
      message(node, *sub, path);
      return;
    }
    if (!node.IsScalar()) {
      errors_.add(path, "expected a " + std::string(field->type_name()) + " value, got " + describe(node));
      return;
    }
    const std::string& text = node.Scalar();
    switch (field->cpp_type()) {
      case FD::CPPTYPE_INT32:
        if (auto v = integer<int32_t>(text, path))
          repeated ? r->AddInt32(&msg, field, *v) : r->SetInt32(&msg, field, *v);
        break;
      case FD::CPPTYPE_INT64:
        if (auto v = integer<int64_t>(text, path))
          repeated ? r->AddInt64(&msg, field, *v) : r->SetInt64(&msg, field, *v);
        break;
      case FD::CPPTYPE_UINT32:
        if (auto v = integer<uint32_t>(text, path)) {
          repeated ? r->AddUInt32(&msg, field, *v) : r->SetUInt32(&msg, field, *v);
        }
        break;
      case FD::CPPTYPE_UINT64:
        if (auto v = integer<uint64_t>(text, path)) {
          repeated ? r->AddUInt64(&msg, field, *v) : r->SetUInt64(&msg, field, *v);
        }
        break;
      case FD::CPPTYPE_DOUBLE:
        if (auto v = floating(text, path)) repeated ? r->AddDouble(&msg, field, *v) : r->SetDouble(&msg, field, *v);
        break;
      case FD::CPPTYPE_FLOAT:
        if (auto v = floating(text, path)) {
          const auto f = static_cast<float>(*v);
          repeated ? r->AddFloat(&msg, field, f) : r->SetFloat(&msg, field, f);
        }
        break;
      case FD::CPPTYPE_BOOL:
        if (auto v = boolean(text, path)) repeated ? r->AddBool(&msg, field, *v) : r->SetBool(&msg, field, *v);
        break;
      case FD::CPPTYPE_ENUM:
        enumValue(text, msg, field, path, repeated);
        break;
      case FD::CPPTYPE_STRING: {
        std::string value = text;
        if (field->type() == FD::TYPE_BYTES && !base64Decode(text, value)) {
          errors_.add(path, "expected base64-encoded bytes");
          break;
        }
        if (field->type() == FD::TYPE_STRING && !isValidUtf8(text)) {
          errors_.add(path, std::string(kNotUtf8));
          break;
        }
        repeated ? r->AddString(&msg, field, std::move(value)) : r->SetString(&msg, field, std::move(value));
        break;
      }
      case FD::CPPTYPE_MESSAGE:
        break;  // handled above
    }
  }

  template <typename Int>
  std::optional<Int> integer(const std::string& text, const std::string& path) {
    Int value{};
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    if (!text.empty() && text[0] == '+') ++begin;
    const auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec == std::errc::result_out_of_range) {
      errors_.add(path, "'" + text + "' is out of range for " + typeName<Int>());
      return std::nullopt;
    }
    if (ec != std::errc() || ptr != end || begin == end) {
      errors_.add(path, "expected an integer, got '" + text + "'");
      return std::nullopt;
    }
    return value;
  }

  template <typename Int>
  static std::string typeName() {
    if constexpr (std::is_same_v<Int, int32_t>) return "int32";
    if constexpr (std::is_same_v<Int, int64_t>) return "int64";
    if constexpr (std::is_same_v<Int, uint32_t>) return "uint32";
    return "uint64";
  }

  std::optional<double> floating(const std::string& text, const std::string& path) {
    if (text == "NaN" || text == ".nan") return std::numeric_limits<double>::quiet_NaN();
    if (text == "Infinity" || text == ".inf") return std::numeric_limits<double>::infinity();
    if (text == "-Infinity" || text == "-.inf") return -std::numeric_limits<double>::infinity();
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || std::isspace(static_cast<unsigned char>(text[0]))) {
      errors_.add(path, "expected a number, got '" + text + "'");
      return std::nullopt;
    }
    if (errno == ERANGE && std::isinf(value)) {
      errors_.add(path, "'" + text + "' is out of range for a double");
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> boolean(const std::string& text, const std::string& path) {
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    errors_.add(path, "expected true or false, got '" + text + "'");
    return std::nullopt;
  }

  void enumValue(const std::string& text, pb::Message& msg, const FD* field, const std::string& path, bool repeated) {
    const pb::EnumDescriptor* type = field->enum_type();
    int number = 0;
    if (const auto* value = type->FindValueByName(text)) {
      number = value->number();
    } else {
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
        std::string names;
        for (int i = 0; i < type->value_count(); ++i) {
          if (i) names += ", ";
          names += type->value(i)->name();
        }
        errors_.add(path, "unknown value '" + text + "' for " + type->full_name() + " (one of " + names + ")");
        return;
      }
    }
    const pb::Reflection* r = msg.GetReflection();
    repeated ? r->AddEnumValue(&msg, field, number) : r->SetEnumValue(&msg, field, number);
  }

  static bool base64Decode(const std::string& text, std::string& out) {
    out.clear();
    uint32_t bits = 0;
    int count = 0;
    for (const char c : text) {
      int v;
      if (c >= 'A' && c <= 'Z')
        v = c - 'A';
      else if (c >= 'a' && c <= 'z')
        v = c - 'a' + 26;
      else if (c >= '0' && c <= '9')
        v = c - '0' + 52;
      else if (c == '+' || c == '-')
        v = 62;
      else if (c == '/' || c == '_')
        v = 63;
      else if (c == '=')
        break;
      else
        return false;
      bits = (bits << 6) | static_cast<uint32_t>(v);
      count += 6;
      if (count >= 8) {
        count -= 8;
        out.push_back(static_cast<char>((bits >> count) & 0xff));
      }
    }
    return true;
  }

  // Well-known types with a JSON form of their own. Returns false when `msg`
  // is not one of them.
  bool wellKnown(const YAML::Node& node, pb::Message& msg, const std::string& path) {
    const std::string& name = msg.GetDescriptor()->full_name();
    if (name.rfind("google.protobuf.", 0) != 0) return false;
    if (name == "google.protobuf.Duration" || name == "google.protobuf.Timestamp" ||
        name == "google.protobuf.FieldMask") {
      if (!node.IsScalar()) {
        errors_.add(path, "expected a string for " + name + ", got " + describe(node));
        return true;
      }
      timeLike(node.Scalar(), msg, path);
      return true;
    }
    if (name == "google.protobuf.Struct") {
      if (!node.IsMap()) {
        errors_.add(path, "expected a map, got " + describe(node));
        return true;
      }
      structValue(node, static_cast<pb::Struct&>(msg), path);
      return true;
    }
    if (name == "google.protobuf.Value") {
      value(node, static_cast<pb::Value&>(msg), path);
      return true;
    }
    if (name == "google.protobuf.ListValue") {
      if (!node.IsSequence()) {
        errors_.add(path, "expected a list, got " + describe(node));
        return true;
      }
      for (size_t i = 0; i < node.size(); ++i) {
        value(node[i], *static_cast<pb::ListValue&>(msg).add_values(), indexPath(path, i));
      }
      return true;
    }
    if (name.size() > 5 && name.compare(name.size() - 5, 5, "Value") == 0) {
      // Wrappers (UInt32Value, BoolValue, ...): the plain value stands for the message.
      if (node.IsNull()) return true;
      const FD* field = msg.GetDescriptor()->FindFieldByName("value");
      if (field == nullptr) return false;
      element(node, msg, field, path, false);
      return true;
    }
    return false;
  }

  void timeLike(const std::string& text, pb::Message& msg, const std::string& path) {
    const std::string& name = msg.GetDescriptor()->full_name();
    bool ok = false;
    if (name == "google.protobuf.Duration") {
      ok = pb::util::TimeUtil::FromString(text, static_cast<pb::Duration*>(&msg));
      if (!ok) errors_.add(path, "expected a duration such as '1.5s', got '" + text + "'");
    } else if (name == "google.protobuf.Timestamp") {
      ok = pb::util::TimeUtil::FromString(text, static_cast<pb::Timestamp*>(&msg));
      if (!ok) errors_.add(path, "expected an RFC 3339 timestamp, got '" + text + "'");
    } else {
      ok = pb::util::FieldMaskUtil::FromJsonString(text, static_cast<pb::FieldMask*>(&msg));
      if (!ok) errors_.add(path, "expected a field mask such as 'a.b,c', got '" + text + "'");
    }
  }

  void structValue(const YAML::Node& node, pb::Struct& out, const std::string& path) {
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        errors_.add(path, "keys must be strings, got " + describe(entry.first));
        continue;
      }
      if (!isValidUtf8(entry.first.Scalar())) {
        errors_.add(path, "a key is " + std::string(kNotUtf8));
        continue;
      }
      value(entry.second, (*out.mutable_fields())[entry.first.Scalar()], keyPath(path, entry.first.Scalar()));
    }
  }

  void value(const YAML::Node& node, pb::Value& out, const std::string& path) {
    switch (node.Type()) {
      case YAML::NodeType::Map:
        structValue(node, *out.mutable_struct_value(), path);
        return;
      case YAML::NodeType::Sequence:
        for (size_t i = 0; i < node.size(); ++i) {
          value(node[i], *out.mutable_list_value()->add_values(), indexPath(path, i));
        }
        if (node.size() == 0) out.mutable_list_value();
        return;
      case YAML::NodeType::Scalar: {
        const std::string& text = node.Scalar();
        if (!isQuoted(node)) {
          if (text == "true" || text == "false") {
            out.set_bool_value(text == "true");
            return;
          }
          if (text == "null" || text == "~") {
            out.set_null_value(pb::NULL_VALUE);
            return;
          }
          char* end = nullptr;
          const double number = std::strtod(text.c_str(), &end);
          if (!text.empty() && end == text.c_str() + text.size() &&
              !std::isspace(static_cast<unsigned char>(text[0]))) {
            out.set_number_value(number);
            return;
          }
        }
        if (!isValidUtf8(text)) {
          errors_.add(path, std::string(kNotUtf8));
          return;
        }
        out.set_string_value(text);
        return;
      }
      default:
        out.set_null_value(pb::NULL_VALUE);
        return;
    }
  }

  void any(const YAML::Node& node, pb::Message& msg, const std::string& path) {
    const YAML::Node type_node = node["@type"];
    if (!type_node || !type_node.IsScalar()) {
      errors_.add(path, "a typed config needs '@type' naming its message type");
      return;
    }
    const std::string& type_url = type_node.Scalar();
    const pb::Descriptor* descriptor = descriptorForTypeUrl(type_url);
    if (descriptor == nullptr) {
      errors_.add(childPath(path, "@type"), "unknown type '" + type_url + "'");
      return;
    }
    std::unique_ptr<pb::Message> payload(pb::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
    // Well-known types with a JSON form of their own carry it under "value".
    const bool special_form =
        descriptor->full_name().rfind("google.protobuf.", 0) == 0 && descriptor->full_name() != "google.protobuf.Empty";
    if (special_form) {
      const YAML::Node special = node["value"];
      if (!special) {
        errors_.add(path, "a typed " + descriptor->full_name() + " carries its value under 'value'");
        return;
      }
      message(special, *payload, childPath(path, "value"));
    } else {
      message(node, *payload, path, /*in_any=*/true);
    }
    const pb::Reflection* r = msg.GetReflection();
    const pb::Descriptor* any_descriptor = msg.GetDescriptor();
    r->SetString(&msg, any_descriptor->FindFieldByName("type_url"), "type.googleapis.com/" + descriptor->full_name());
    r->SetString(&msg, any_descriptor->FindFieldByName("value"), payload->SerializeAsString());
  }

  ErrorList& errors_;
};

}  // namespace

void yamlToProto(const YAML::Node& node, google::protobuf::Message& message, std::string_view path, ErrorList& errors) {
  Converter(errors).message(node, message, std::string(path));
}

void parseYamlInto(std::string_view text, google::protobuf::Message& message, ErrorList& errors,
                   std::string_view source) {
  YAML::Node root;
  if (!loadBoundedYaml(text, source, root, errors)) return;
  if (root.IsNull()) {
    errors.add("", "the document is empty");
    return;
  }
  yamlToProto(root, message, "", errors);
}

}  // namespace sluice::config
