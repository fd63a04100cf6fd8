// Walks a message by reflection and applies the PGV rules found in the
// options of its fields, oneofs and message type, then recurses into every set
// message (Any payloads included). Rules of a kind that does not fit the
// field's type are ignored, apart from `required`: protoc and PGV's generator
// accept them, and Envoy's API has one (`any` rules on
// ExtensionConfigSource.config_source, a ConfigSource).
#include "config/pgv_validator.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "config/any_util.h"
#include "config/pgv_string_rules.h"
#include "validate/validate.pb.h"

namespace sluice::config {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using pgv::bracketed;
using pgv::quote;
using Rules = validate::FieldRules;

void validateMessage(const Message& message, const std::string& path, ErrorList& errors);

// One value under check: a singular field (index < 0) or one element of a
// repeated field. Map keys and values are fields of their entry message; a
// wrapper type's payload is its `value` field.
struct Slot {
  const Message* message;
  const FieldDescriptor* field;
  int index;

  const Reflection& reflection() const { return *message->GetReflection(); }
  bool repeated() const { return index >= 0; }
};

// The C++ type that holds values of `T`'s kind in reflection.
template <typename T>
constexpr FieldDescriptor::CppType cppTypeOf() {
  if constexpr (std::is_same_v<T, int32_t>) return FieldDescriptor::CPPTYPE_INT32;
  if constexpr (std::is_same_v<T, int64_t>) return FieldDescriptor::CPPTYPE_INT64;
  if constexpr (std::is_same_v<T, uint32_t>) return FieldDescriptor::CPPTYPE_UINT32;
  if constexpr (std::is_same_v<T, uint64_t>) return FieldDescriptor::CPPTYPE_UINT64;
  if constexpr (std::is_same_v<T, float>) return FieldDescriptor::CPPTYPE_FLOAT;
  if constexpr (std::is_same_v<T, double>) return FieldDescriptor::CPPTYPE_DOUBLE;
  if constexpr (std::is_same_v<T, bool>) return FieldDescriptor::CPPTYPE_BOOL;
  if constexpr (std::is_same_v<T, std::string>) return FieldDescriptor::CPPTYPE_STRING;
}

// Precondition: slot.field's C++ type is cppTypeOf<T>().
template <typename T>
T read(const Slot& slot) {
  const auto& r = slot.reflection();
  const auto& m = *slot.message;
  const auto* f = slot.field;
  const int i = slot.index;
  if constexpr (std::is_same_v<T, int32_t>) {
    return slot.repeated() ? r.GetRepeatedInt32(m, f, i) : r.GetInt32(m, f);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return slot.repeated() ? r.GetRepeatedInt64(m, f, i) : r.GetInt64(m, f);
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    return slot.repeated() ? r.GetRepeatedUInt32(m, f, i) : r.GetUInt32(m, f);
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    return slot.repeated() ? r.GetRepeatedUInt64(m, f, i) : r.GetUInt64(m, f);
  } else if constexpr (std::is_same_v<T, float>) {
    return slot.repeated() ? r.GetRepeatedFloat(m, f, i) : r.GetFloat(m, f);
  } else if constexpr (std::is_same_v<T, double>) {
    return slot.repeated() ? r.GetRepeatedDouble(m, f, i) : r.GetDouble(m, f);
  } else if constexpr (std::is_same_v<T, bool>) {
    return slot.repeated() ? r.GetRepeatedBool(m, f, i) : r.GetBool(m, f);
  } else {
    static_assert(std::is_same_v<T, std::string>);
    return slot.repeated() ? r.GetRepeatedString(m, f, i) : r.GetString(m, f);
  }
}

int readEnum(const Slot& slot) {
  return slot.repeated() ? slot.reflection().GetRepeatedEnumValue(*slot.message, slot.field, slot.index)
                         : slot.reflection().GetEnumValue(*slot.message, slot.field);
}

const Message& readMessage(const Slot& slot) {
  return slot.repeated() ? slot.reflection().GetRepeatedMessage(*slot.message, slot.field, slot.index)
                         : slot.reflection().GetMessage(*slot.message, slot.field);
}

// Shortest text that reads back as the same number.
template <typename T>
std::string formatNumber(T value) {
  if constexpr (std::is_floating_point_v<T>) {
    char text[64];
    const auto result = std::to_chars(text, text + sizeof text, value);
    return std::string(text, result.ptr);
  } else {
    return std::to_string(value);
  }
}

// A scalar as text: map keys in paths, duplicate detection for `unique`.
std::string scalarText(const Slot& slot) {
  switch (slot.field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return formatNumber(read<int32_t>(slot));
    case FieldDescriptor::CPPTYPE_INT64:
      return formatNumber(read<int64_t>(slot));
    case FieldDescriptor::CPPTYPE_UINT32:
      return formatNumber(read<uint32_t>(slot));
    case FieldDescriptor::CPPTYPE_UINT64:
      return formatNumber(read<uint64_t>(slot));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return formatNumber(read<float>(slot));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return formatNumber(read<double>(slot));
    case FieldDescriptor::CPPTYPE_BOOL:
      return read<bool>(slot) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return formatNumber(readEnum(slot));
    case FieldDescriptor::CPPTYPE_STRING:
      return read<std::string>(slot);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return {};
}

// Zero, false, empty: what `ignore_empty` skips.
bool isEmptyScalar(const Slot& slot) {
  switch (slot.field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return read<int32_t>(slot) == 0;
    case FieldDescriptor::CPPTYPE_INT64:
      return read<int64_t>(slot) == 0;
    case FieldDescriptor::CPPTYPE_UINT32:
      return read<uint32_t>(slot) == 0;
    case FieldDescriptor::CPPTYPE_UINT64:
      return read<uint64_t>(slot) == 0;
    case FieldDescriptor::CPPTYPE_FLOAT:
      return read<float>(slot) == 0;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return read<double>(slot) == 0;
    case FieldDescriptor::CPPTYPE_BOOL:
      return !read<bool>(slot);
    case FieldDescriptor::CPPTYPE_ENUM:
      return readEnum(slot) == 0;
    case FieldDescriptor::CPPTYPE_STRING:
      return read<std::string>(slot).empty();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return false;
}

// The field of `rules.type` that is set (e.g. `string`), or nullptr.
const FieldDescriptor* kindOf(const Rules& rules) {
  static const auto* const type = Rules::descriptor()->FindOneofByName("type");
  return rules.GetReflection()->GetOneofFieldDescriptor(rules, type);
}

// Whether `kindRules` (e.g. a StringRules) says to skip empty values. Looked
// up by name: this validate.proto has `ignore_empty` on strings only, newer
// ones on most kinds.
bool ignoresEmpty(const Message& kindRules) {
  const auto* field = kindRules.GetDescriptor()->FindFieldByName("ignore_empty");
  return field != nullptr && field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL && !field->is_repeated() &&
         kindRules.GetReflection()->GetBool(kindRules, field);
}

// How bounds read in messages: `must be <= 5` for numbers, `must be less than
// or equal to 1s` for durations and timestamps.
struct BoundWords {
  const char* lt;
  const char* lte;
  const char* gt;
  const char* gte;
};
constexpr BoundWords kSymbols{"<", "<=", ">", ">="};
constexpr BoundWords kWords{"less than", "less than or equal to", "greater than", "greater than or equal to"};

template <typename T>
struct Bounds {
  std::optional<T> lt, lte, gt, gte;
};

// PGV's lt/lte/gt/gte (lt wins over lte, gt over gte). With an upper and a
// lower bound, the value must lie between them when upper > lower, and
// outside them otherwise (an exclusive range).
template <typename T, typename Format>
void checkBounds(const T& value, const Bounds<T>& bounds, const BoundWords& words, Format format,
                 const std::string& path, ErrorList& errors) {
  const std::optional<T>& upper = bounds.lt ? bounds.lt : bounds.lte;
  const std::optional<T>& lower = bounds.gt ? bounds.gt : bounds.gte;
  if (!upper && !lower) return;
  const bool strictUpper = bounds.lt.has_value();
  const bool strictLower = bounds.gt.has_value();
  const bool belowUpper = !upper || (strictUpper ? value < *upper : value <= *upper);
  const bool aboveLower = !lower || (strictLower ? value > *lower : value >= *lower);
  const std::string upperText = upper ? std::string(strictUpper ? words.lt : words.lte) + " " + format(*upper) : "";
  const std::string lowerText = lower ? std::string(strictLower ? words.gt : words.gte) + " " + format(*lower) : "";
  if (upper && lower) {
    if (*upper > *lower) {
      if (!belowUpper || !aboveLower) errors.add(path, "must be " + lowerText + " and " + upperText);
    } else if (!belowUpper && !aboveLower) {
      errors.add(path, "must be " + upperText + " or " + lowerText);
    }
  } else if (!belowUpper || !aboveLower) {
    errors.add(path, "must be " + (upper ? upperText : lowerText));
  }
}

// const, the bounds, in, not_in: shared by every numeric kind's rules, which
// have the same accessors. `T` is the C++ type of the rule's values.
template <typename T, typename KindRules>
void checkNumber(const Slot& slot, const KindRules& rules, const std::string& path, ErrorList& errors) {
  if (slot.field->cpp_type() != cppTypeOf<T>()) return;
  const T value = read<T>(slot);
  if (rules.has_const_() && value != rules.const_()) {
    errors.add(path, "must equal " + formatNumber<T>(rules.const_()));
  }
  Bounds<T> bounds;
  if (rules.has_lt()) bounds.lt = rules.lt();
  if (rules.has_lte()) bounds.lte = rules.lte();
  if (rules.has_gt()) bounds.gt = rules.gt();
  if (rules.has_gte()) bounds.gte = rules.gte();
  checkBounds(value, bounds, kSymbols, formatNumber<T>, path, errors);
  const auto& in = rules.in();
  if (!in.empty() && std::find(in.begin(), in.end(), value) == in.end()) {
    errors.add(path, "must be one of " + bracketed(in, formatNumber<T>));
  }
  const auto& notIn = rules.not_in();
  if (std::find(notIn.begin(), notIn.end(), value) != notIn.end()) {
    errors.add(path, "must not be one of " + bracketed(notIn, formatNumber<T>));
  }
}

void checkEnum(const Slot& slot, const validate::EnumRules& rules, const std::string& path, ErrorList& errors) {
  const int value = readEnum(slot);
  const auto* type = slot.field->enum_type();
  const auto name = [type](int number) {
    const auto* known = type->FindValueByNumber(number);
    return known != nullptr ? known->name() : std::to_string(number);
  };
  if (rules.has_const_() && value != rules.const_()) errors.add(path, "must equal " + name(rules.const_()));
  if (rules.defined_only() && type->FindValueByNumber(value) == nullptr) {
    std::vector<std::string> names;
    for (int i = 0; i < type->value_count(); ++i) names.push_back(type->value(i)->name());
    errors.add(path, "must be one of the defined values " +
                         bracketed(names, [](const std::string& text) { return text; }) + ", not " +
                         std::to_string(value));
  }
  const auto& in = rules.in();
  if (!in.empty() && std::find(in.begin(), in.end(), value) == in.end()) {
    errors.add(path, "must be one of " + bracketed(in, name));
  }
  const auto& notIn = rules.not_in();
  if (std::find(notIn.begin(), notIn.end(), value) != notIn.end()) {
    errors.add(path, "must not be one of " + bracketed(notIn, name));
  }
}

// The rules for one scalar value (or a wrapper type's payload).
void checkScalar(const Slot& slot, const Rules& rules, const std::string& path, ErrorList& errors) {
  if (const auto* kind = kindOf(rules); kind != nullptr) {
    if (ignoresEmpty(rules.GetReflection()->GetMessage(rules, kind)) && isEmptyScalar(slot)) return;
  }
  const auto cppType = slot.field->cpp_type();
  switch (rules.type_case()) {
    case Rules::kFloat:
      return checkNumber<float>(slot, rules.float_(), path, errors);
    case Rules::kDouble:
      return checkNumber<double>(slot, rules.double_(), path, errors);
    case Rules::kInt32:
      return checkNumber<int32_t>(slot, rules.int32(), path, errors);
    case Rules::kInt64:
      return checkNumber<int64_t>(slot, rules.int64(), path, errors);
    case Rules::kUint32:
      return checkNumber<uint32_t>(slot, rules.uint32(), path, errors);
    case Rules::kUint64:
      return checkNumber<uint64_t>(slot, rules.uint64(), path, errors);
    case Rules::kSint32:
      return checkNumber<int32_t>(slot, rules.sint32(), path, errors);
    case Rules::kSint64:
      return checkNumber<int64_t>(slot, rules.sint64(), path, errors);
    case Rules::kFixed32:
      return checkNumber<uint32_t>(slot, rules.fixed32(), path, errors);
    case Rules::kFixed64:
      return checkNumber<uint64_t>(slot, rules.fixed64(), path, errors);
    case Rules::kSfixed32:
      return checkNumber<int32_t>(slot, rules.sfixed32(), path, errors);
    case Rules::kSfixed64:
      return checkNumber<int64_t>(slot, rules.sfixed64(), path, errors);
    case Rules::kBool:
      if (cppType != FieldDescriptor::CPPTYPE_BOOL) return;
      if (rules.bool_().has_const_() && read<bool>(slot) != rules.bool_().const_()) {
        errors.add(path, rules.bool_().const_() ? "must be true" : "must be false");
      }
      return;
    case Rules::kString:
    case Rules::kBytes:
      if (cppType != FieldDescriptor::CPPTYPE_STRING) return;
      if (rules.has_string()) return pgv::checkString(read<std::string>(slot), rules.string(), path, errors);
      return pgv::checkBytes(read<std::string>(slot), rules.bytes(), path, errors);
    case Rules::kEnum:
      if (cppType != FieldDescriptor::CPPTYPE_ENUM) return;
      return checkEnum(slot, rules.enum_(), path, errors);
    case Rules::kRepeated:
    case Rules::kMap:
    case Rules::kAny:
    case Rules::kDuration:
    case Rules::kTimestamp:
    case Rules::TYPE_NOT_SET:
      return;
  }
}

// A Duration or Timestamp as (seconds, nanos). Valid values order like the
// times they stand for: a Duration's fields share a sign, a Timestamp's nanos
// are never negative.
struct TimeValue {
  int64_t seconds = 0;
  int32_t nanos = 0;
  auto operator<=>(const TimeValue&) const = default;
};
constexpr int64_t kNanosPerSecond = 1'000'000'000;

// Precondition: `message` is a google.protobuf.Duration or Timestamp.
TimeValue timeValueOf(const Message& message) {
  const auto* type = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  return {reflection->GetInt64(message, type->FindFieldByName("seconds")),
          reflection->GetInt32(message, type->FindFieldByName("nanos"))};
}

// `1.5s`, `0.001s`, `0s`: seconds with the fraction's trailing zeros dropped.
std::string formatDuration(const TimeValue& duration) {
  const bool negative = duration.seconds < 0 || duration.nanos < 0;
  const auto seconds = static_cast<uint64_t>(duration.seconds);
  std::string out = negative ? "-" : "";
  out += std::to_string(negative ? 0 - seconds : seconds);
  const auto nanos = static_cast<uint32_t>(negative ? -int64_t{duration.nanos} : duration.nanos);
  if (nanos != 0) {
    std::string fraction = std::to_string(nanos);
    if (fraction.size() < 9) fraction.insert(0, 9 - fraction.size(), '0');
    fraction.erase(fraction.find_last_not_of('0') + 1);
    out += '.' + fraction;
  }
  out += 's';
  return out;
}

// RFC 3339, e.g. `2024-01-01T00:00:00Z`.
std::string formatTimestamp(const TimeValue& time) {
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(time.seconds);
  timestamp.set_nanos(time.nanos);
  return google::protobuf::util::TimeUtil::ToString(timestamp);
}

// const, lt, lte, gt, gte, in, not_in, which Duration and Timestamp rules share.
template <typename TimeRules, typename Format>
void checkTimeBounds(const TimeValue& value, const TimeRules& rules, Format format, const std::string& path,
                     ErrorList& errors) {
  if (rules.has_const_() && value != timeValueOf(rules.const_())) {
    errors.add(path, "must equal " + format(timeValueOf(rules.const_())));
  }
  Bounds<TimeValue> bounds;
  if (rules.has_lt()) bounds.lt = timeValueOf(rules.lt());
  if (rules.has_lte()) bounds.lte = timeValueOf(rules.lte());
  if (rules.has_gt()) bounds.gt = timeValueOf(rules.gt());
  if (rules.has_gte()) bounds.gte = timeValueOf(rules.gte());
  checkBounds(value, bounds, kWords, format, path, errors);
}

void checkDuration(const Message& duration, const validate::DurationRules& rules, const std::string& path,
                   ErrorList& errors) {
  const TimeValue value = timeValueOf(duration);
  checkTimeBounds(value, rules, formatDuration, path, errors);
  const auto formatOne = [](const google::protobuf::Duration& d) { return formatDuration(timeValueOf(d)); };
  const auto contains = [&value](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&value](const auto& d) { return timeValueOf(d) == value; });
  };
  if (!rules.in().empty() && !contains(rules.in())) {
    errors.add(path, "must be one of " + bracketed(rules.in(), formatOne));
  }
  if (contains(rules.not_in())) errors.add(path, "must not be one of " + bracketed(rules.not_in(), formatOne));
}

// `time` moved by `sign` times `duration`, normalised as a Timestamp.
TimeValue shifted(const TimeValue& time, const TimeValue& duration, int sign) {
  int64_t seconds = time.seconds + sign * duration.seconds;
  int64_t nanos = time.nanos + sign * int64_t{duration.nanos};
  seconds += nanos / kNanosPerSecond;
  nanos %= kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --seconds;
  }
  return {seconds, static_cast<int32_t>(nanos)};
}

void checkTimestamp(const Message& timestamp, const validate::TimestampRules& rules, const std::string& path,
                    ErrorList& errors) {
  const TimeValue value = timeValueOf(timestamp);
  checkTimeBounds(value, rules, formatTimestamp, path, errors);
  if (!rules.lt_now() && !rules.gt_now() && !rules.has_within()) return;
  const auto sinceEpoch =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const TimeValue now{sinceEpoch / kNanosPerSecond, static_cast<int32_t>(sinceEpoch % kNanosPerSecond)};
  const bool hasWithin = rules.has_within();
  const TimeValue within = hasWithin ? timeValueOf(rules.within()) : TimeValue{};
  const std::string withinText = " within " + formatDuration(within) + " of now";
  // As PGV: lt_now and within, [now - within, now); gt_now and within,
  // (now, now + within]; within alone, (now - within, now + within).
  if (rules.lt_now()) {
    if (value >= now || (hasWithin && value < shifted(now, within, -1))) {
      errors.add(path, "must be in the past" + (hasWithin ? "," + withinText : ""));
    }
  } else if (rules.gt_now()) {
    if (value <= now || (hasWithin && value > shifted(now, within, 1))) {
      errors.add(path, "must be in the future" + (hasWithin ? "," + withinText : ""));
    }
  } else if (value <= shifted(now, within, -1) || value >= shifted(now, within, 1)) {
    errors.add(path, "must be" + withinText);
  }
}

std::string typeUrlOf(const Message& any) {
  const auto* field = any.GetDescriptor()->FindFieldByName("type_url");
  return any.GetReflection()->GetString(any, field);
}

void checkAnyRules(const Message& any, const validate::AnyRules& rules, const std::string& path, ErrorList& errors) {
  const std::string url = typeUrlOf(any);
  const auto& in = rules.in();
  if (!in.empty() && std::find(in.begin(), in.end(), url) == in.end()) {
    errors.add(path, "type URL must be one of " + bracketed(in, quote));
  }
  const auto& notIn = rules.not_in();
  if (std::find(notIn.begin(), notIn.end(), url) != notIn.end()) {
    errors.add(path, "type URL must not be one of " + bracketed(notIn, quote));
  }
}

// Validates the message packed in `any` at `any`'s own path.
void validateAnyPayload(const Message& any, const std::string& path, ErrorList& errors) {
  const auto* generated = google::protobuf::DynamicCastToGenerated<google::protobuf::Any>(&any);
  google::protobuf::Any copy;
  if (generated == nullptr) {  // a dynamic message of type Any: same wire format
    copy.ParseFromString(any.SerializeAsString());
    generated = &copy;
  }
  std::string error;
  const auto payload = unpackAny(*generated, &error);
  if (payload == nullptr) {
    errors.add(path, error);
    return;
  }
  validateMessage(*payload, path, errors);
}

bool isWrapperType(const Message& message) {
  return message.GetDescriptor()->file()->name() == "google/protobuf/wrappers.proto";
}

// A message-typed value: `required` when unset; else the Duration, Timestamp
// or Any rules, or scalar rules on a wrapper's payload; then its own rules
// unless `skip`.
void checkMessageValue(const Slot& slot, bool set, const Rules& rules, const std::string& path, ErrorList& errors) {
  if (!set) {
    const bool required = rules.message().required() || (rules.has_duration() && rules.duration().required()) ||
                          (rules.has_timestamp() && rules.timestamp().required()) ||
                          (rules.has_any() && rules.any().required());
    if (required) errors.add(path, "is required");
    return;
  }
  const Message& value = readMessage(slot);
  const std::string& type = value.GetDescriptor()->full_name();
  switch (rules.type_case()) {
    case Rules::kDuration:
      if (type == "google.protobuf.Duration") checkDuration(value, rules.duration(), path, errors);
      break;
    case Rules::kTimestamp:
      if (type == "google.protobuf.Timestamp") checkTimestamp(value, rules.timestamp(), path, errors);
      break;
    case Rules::kAny:
      if (type == "google.protobuf.Any") checkAnyRules(value, rules.any(), path, errors);
      break;
    case Rules::kRepeated:
    case Rules::kMap:
    case Rules::TYPE_NOT_SET:
      break;
    default:  // scalar rules on a wrapper type: they apply to its payload
      if (isWrapperType(value)) {
        checkScalar(Slot{&value, value.GetDescriptor()->FindFieldByName("value"), -1}, rules, path, errors);
      }
      break;
  }
  if (!rules.message().skip()) validateMessage(value, path, errors);
}

void checkUnique(const Message& message, const FieldDescriptor* field, int size, const std::string& path,
                 ErrorList& errors) {
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) return;  // PGV: scalars only
  std::map<std::string, int> firstIndex;
  for (int i = 0; i < size; ++i) {
    const auto [first, inserted] = firstIndex.emplace(scalarText(Slot{&message, field, i}), i);
    if (!inserted) {
      errors.add(indexPath(path, static_cast<size_t>(i)),
                 "must be unique, same as [" + std::to_string(first->second) + "]");
    }
  }
}

void checkRepeated(const Message& message, const FieldDescriptor* field, const Rules& rules, const std::string& path,
                   ErrorList& errors) {
  const int size = message.GetReflection()->FieldSize(message, field);
  const auto& repeatedRules = rules.repeated();
  if (rules.has_repeated() && !(size == 0 && ignoresEmpty(repeatedRules))) {
    const auto count = static_cast<uint64_t>(size);
    if (repeatedRules.has_min_items() && count < repeatedRules.min_items()) {
      errors.add(path, "must have at least " + std::to_string(repeatedRules.min_items()) + " items");
    }
    if (repeatedRules.has_max_items() && count > repeatedRules.max_items()) {
      errors.add(path, "must have at most " + std::to_string(repeatedRules.max_items()) + " items");
    }
    if (repeatedRules.unique()) checkUnique(message, field, size, path, errors);
  }
  for (int i = 0; i < size; ++i) {
    const Slot slot{&message, field, i};
    const std::string itemPath = indexPath(path, static_cast<size_t>(i));
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      checkMessageValue(slot, true, repeatedRules.items(), itemPath, errors);
    } else {
      checkScalar(slot, repeatedRules.items(), itemPath, errors);
    }
  }
}

void checkMap(const Message& message, const FieldDescriptor* field, const Rules& rules, const std::string& path,
              ErrorList& errors) {
  const auto& reflection = *message.GetReflection();
  const int size = reflection.FieldSize(message, field);
  const auto& mapRules = rules.map();
  if (rules.has_map() && !(size == 0 && ignoresEmpty(mapRules))) {
    const auto count = static_cast<uint64_t>(size);
    if (mapRules.has_min_pairs() && count < mapRules.min_pairs()) {
      errors.add(path, "must have at least " + std::to_string(mapRules.min_pairs()) + " entries");
    }
    if (mapRules.has_max_pairs() && count > mapRules.max_pairs()) {
      errors.add(path, "must have at most " + std::to_string(mapRules.max_pairs()) + " entries");
    }
  }
  const auto* keyField = field->message_type()->map_key();
  const auto* valueField = field->message_type()->map_value();
  // In key order, so that errors come out in the same order every time.
  std::vector<std::pair<std::string, const Message*>> entries;
  for (int i = 0; i < size; ++i) {
    const Message& entry = reflection.GetRepeatedMessage(message, field, i);
    entries.emplace_back(scalarText(Slot{&entry, keyField, -1}), &entry);
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& [key, entry] : entries) {
    const std::string entryPath = keyPath(path, key);
    checkScalar(Slot{entry, keyField, -1}, mapRules.keys(), entryPath, errors);
    const Slot value{entry, valueField, -1};
    if (valueField->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      checkScalar(value, mapRules.values(), entryPath, errors);
      continue;
    }
    const bool set = entry->GetReflection()->HasField(*entry, valueField);
    if (!set && mapRules.no_sparse()) {
      errors.add(entryPath, "must have a value (no sparse entries)");
    } else {
      checkMessageValue(value, set, mapRules.values(), entryPath, errors);
    }
  }
}

void checkField(const Message& message, const FieldDescriptor* field, const std::string& parentPath,
                ErrorList& errors) {
  const auto& options = field->options();
  const bool hasRules = options.HasExtension(validate::rules);
  const bool isMessage = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  if (!hasRules && !isMessage) return;
  // Without presence (proto3 scalars outside a oneof) a field counts as set
  // at its default value, so that e.g. `min_len: 1` rejects "".
  const bool set = field->is_repeated() || !field->has_presence() || message.GetReflection()->HasField(message, field);
  if (!hasRules && !set) return;
  // A oneof member is checked only when it is the one set, `required` included
  // (Envoy marks some, e.g. StringMatcher.safe_regex, required inside a oneof).
  if (!set && field->real_containing_oneof() != nullptr) return;
  const auto& rules = options.GetExtension(validate::rules);
  const std::string path = childPath(parentPath, field->name());
  if (field->is_map()) {
    checkMap(message, field, rules, path, errors);
  } else if (field->is_repeated()) {
    checkRepeated(message, field, rules, path, errors);
  } else if (isMessage) {
    checkMessageValue(Slot{&message, field, -1}, set, rules, path, errors);
  } else if (set) {
    checkScalar(Slot{&message, field, -1}, rules, path, errors);
  }
}

// `(validate.disabled)`, or `(validate.ignored)`, which only newer
// validate.proto versions have (so it is looked up by name).
bool rulesSwitchedOff(const google::protobuf::Descriptor* type) {
  const auto& options = type->options();
  if (options.GetExtension(validate::disabled)) return true;
  static const auto* const ignored =
      google::protobuf::DescriptorPool::generated_pool()->FindExtensionByName("validate.ignored");
  return ignored != nullptr && ignored->containing_type() == options.GetDescriptor() &&
         ignored->cpp_type() == FieldDescriptor::CPPTYPE_BOOL && options.GetReflection()->GetBool(options, ignored);
}

void validateMessage(const Message& message, const std::string& path, ErrorList& errors) {
  const auto* type = message.GetDescriptor();
  if (rulesSwitchedOff(type)) return;
  if (type->full_name() == "google.protobuf.Any") return validateAnyPayload(message, path, errors);
  const auto& reflection = *message.GetReflection();
  for (int i = 0; i < type->real_oneof_decl_count(); ++i) {
    const auto* oneof = type->oneof_decl(i);  // synthetic (proto3 optional) oneofs come last
    if (!oneof->options().GetExtension(validate::required) || reflection.HasOneof(message, oneof)) continue;
    std::string list;
    for (int j = 0; j < oneof->field_count(); ++j) list += (j == 0 ? "'" : ", '") + oneof->field(j)->name() + "'";
    errors.add(childPath(path, oneof->name()), "one of " + list + " must be set");
  }
  for (int i = 0; i < type->field_count(); ++i) checkField(message, type->field(i), path, errors);
}

}  // namespace

void validateRules(const google::protobuf::Message& message, std::string_view path, ErrorList& errors) {
  validateMessage(message, std::string(path), errors);
}

}  // namespace sluice::config
