// Loading a bootstrap from files and strings, and the shipped examples.
#include "config/bootstrap_loader.h"
#include "config/discovery_file.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "config/any_util.h"
#include "config/supported_fields.h"

namespace sluice::config {
namespace {

namespace fs = std::filesystem;
namespace pb = google::protobuf;
using envoy::config::bootstrap::v3::Bootstrap;

class TempFile {
 public:
  TempFile(const std::string& suffix, const std::string& content) {
    path_ = (fs::temp_directory_path() /
             ("sluice-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + suffix))
                .string();
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { fs::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

const std::string kMinimal =
    "node: { id: n1 }\nadmin: { address: { socket_address: { address: 127.0.0.1, port_value: 9901 } } }\n";

TEST(BootstrapLoader, LoadsYamlFiles) {
  TempFile f(".yaml", kMinimal);
  Bootstrap b;
  ErrorList errors;
  ASSERT_TRUE(loadBootstrap({f.path(), ""}, b, errors)) << errors.toString();
  EXPECT_EQ(b.node().id(), "n1");
}

TEST(BootstrapLoader, LoadsJsonFiles) {
  TempFile f(".json", R"({"node": {"id": "n1"}})");
  Bootstrap b;
  ErrorList errors;
  ASSERT_TRUE(loadBootstrap({f.path(), ""}, b, errors)) << errors.toString();
  EXPECT_EQ(b.node().id(), "n1");
}

TEST(BootstrapLoader, LoadsTextAndBinaryProtoFiles) {
  Bootstrap original;
  original.mutable_node()->set_id("n1");
  std::string text;
  ASSERT_TRUE(pb::TextFormat::PrintToString(original, &text));
  TempFile as_text(".pb_text", text);
  TempFile as_binary(".pb", original.SerializeAsString());
  for (const auto* f : {&as_text, &as_binary}) {
    Bootstrap b;
    ErrorList errors;
    ASSERT_TRUE(loadBootstrap({f->path(), ""}, b, errors)) << errors.toString();
    EXPECT_EQ(b.node().id(), "n1");
  }
}

TEST(BootstrapLoader, RejectsUnknownExtensions) {
  TempFile f(".conf", kMinimal);
  Bootstrap b;
  ErrorList errors;
  EXPECT_FALSE(loadBootstrap({f.path(), ""}, b, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].message,
            "'" + f.path() + "': unsupported file extension (use .yaml, .yml, .json, .pb or .pb_text)");
}

TEST(BootstrapLoader, ReportsAMissingFile) {
  Bootstrap b;
  ErrorList errors;
  EXPECT_FALSE(loadBootstrap({"/nonexistent/sluice.yaml", ""}, b, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].message, "cannot read '/nonexistent/sluice.yaml': No such file or directory");
}

TEST(BootstrapLoader, MergesConfigYamlOverTheFile) {
  TempFile f(".yaml", kMinimal);
  Bootstrap b;
  ErrorList errors;
  ASSERT_TRUE(loadBootstrap({f.path(), "node: { id: n2, cluster: edge }"}, b, errors)) << errors.toString();
  EXPECT_EQ(b.node().id(), "n2");
  EXPECT_EQ(b.node().cluster(), "edge");
  EXPECT_EQ(b.admin().address().socket_address().port_value(), 9901u);
}

TEST(BootstrapLoader, ReportsErrorsOfAllThreeLayersTogether) {
  // A PGV rule (port), the gate (preconnect_policy) and semantics (duplicate name).
  const std::string yaml = R"(
static_resources:
  clusters:
  - name: web
    load_assignment: { endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 70000 } } } } ] } ] }
  - name: web
    preconnect_policy: { per_upstream_preconnect_ratio: 1.5 }
    load_assignment: { endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 80 } } } } ] } ] }
)";
  Bootstrap b;
  ErrorList errors;
  EXPECT_FALSE(loadBootstrap({"", yaml}, b, errors));
  const std::string all = errors.toString();
  EXPECT_NE(all.find("static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address."
                     "socket_address.port_value: must be <= 65535"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("static_resources.clusters[1].preconnect_policy: is not supported by sluice"), std::string::npos)
      << all;
  EXPECT_NE(all.find("static_resources.clusters[1].name: duplicate cluster name 'web'"), std::string::npos) << all;
}

TEST(BootstrapLoader, OmitsRuleErrorsInsideUnsupportedFields) {
  // per_upstream_preconnect_ratio breaks its rule (<= 3), but the whole field is rejected.
  const std::string yaml =
      "static_resources: { clusters: [ { name: web, type: STRICT_DNS, preconnect_policy: { "
      "per_upstream_preconnect_ratio: 200 } } ] }";
  Bootstrap b;
  ErrorList errors;
  EXPECT_FALSE(loadBootstrap({"", yaml}, b, errors));
  const std::string all = errors.toString();
  EXPECT_NE(all.find("static_resources.clusters[0].preconnect_policy: is not supported by sluice"), std::string::npos);
  EXPECT_EQ(all.find("per_upstream_preconnect_ratio"), std::string::npos) << all;
}

// The examples: each validates, and together they set every supported field.
std::vector<fs::path> examples() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(SLUICE_SOURCE_DIR "/examples")) {
    if (entry.path().extension() == ".yaml") out.push_back(entry.path());
  }
  return out;
}

void collectSetFields(const pb::Message& msg, std::set<std::pair<std::string, std::string>>& seen,
                      std::set<std::string>& types) {
  std::vector<const pb::FieldDescriptor*> fields;
  msg.GetReflection()->ListFields(msg, &fields);
  types.insert(msg.GetDescriptor()->full_name());
  for (const auto* f : fields) {
    seen.insert({msg.GetDescriptor()->full_name(), f->name()});
    if (f->is_map() && f->message_type()->map_value()->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE &&
        f->message_type()->map_value()->message_type()->full_name() == "google.protobuf.Any") {
      // typed_extension_protocol_options: a map of typed configs.
      for (int i = 0; i < msg.GetReflection()->FieldSize(msg, f); ++i) {
        const auto& entry = msg.GetReflection()->GetRepeatedMessage(msg, f, i);
        const auto& any = entry.GetReflection()->GetMessage(entry, f->message_type()->map_value());
        if (auto payload = unpackAny(static_cast<const pb::Any&>(any), nullptr))
          collectSetFields(*payload, seen, types);
      }
      continue;
    }
    if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE || f->is_map()) continue;
    const int n = f->is_repeated() ? msg.GetReflection()->FieldSize(msg, f) : 1;
    for (int i = 0; i < n; ++i) {
      const auto& sub = f->is_repeated() ? msg.GetReflection()->GetRepeatedMessage(msg, f, i)
                                         : msg.GetReflection()->GetMessage(msg, f);
      if (sub.GetDescriptor()->full_name() == "google.protobuf.Any") {
        auto payload = unpackAny(static_cast<const pb::Any&>(sub), nullptr);
        if (payload) collectSetFields(*payload, seen, types);
      } else {
        collectSetFields(sub, seen, types);
      }
    }
  }
}

TEST(Examples, EveryExampleValidates) {
  const auto files = examples();
  ASSERT_GE(files.size(), 2u);
  for (const auto& path : files) {
    Bootstrap b;
    ErrorList errors;
    EXPECT_TRUE(loadBootstrap({path.string(), ""}, b, errors)) << path << ":\n" << errors.toString();
  }
}

TEST(Examples, TogetherTheySetEverySupportedField) {
  std::set<std::pair<std::string, std::string>> seen;
  std::set<std::string> types;
  for (const auto& path : examples()) {
    Bootstrap b;
    ErrorList errors;
    ASSERT_TRUE(loadBootstrap({path.string(), ""}, b, errors)) << errors.toString();
    collectSetFields(b, seen, types);
  }
  // Discovery files (examples/xds/): the fields only xDS resources have (RTDS's Runtime).
  for (const auto& entry : fs::directory_iterator(SLUICE_SOURCE_DIR "/examples/xds")) {
    DiscoveryFile file;
    ErrorList errors;
    const std::string type = "envoy.service.runtime.v3.Runtime";
    ASSERT_TRUE(readDiscoveryFile(entry.path().string(), type, file, errors)) << entry.path() << errors.toString();
    for (const auto& r : file.resources) collectSetFields(*r, seen, types);
  }
  const auto* pool = pb::DescriptorPool::generated_pool();
  for (const auto& f : supportedFields()) {
    const auto* field = pool->FindMessageTypeByName(std::string(f.message))->FindFieldByName(std::string(f.field));
    // A proto3 enum whose only supported value is its default cannot be seen as set.
    const bool default_only = field->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM && !field->has_presence() &&
                              f.enum_values == field->default_value_enum()->name();
    if (default_only) continue;
    EXPECT_TRUE(seen.count({std::string(f.message), std::string(f.field)}))
        << f.message << "." << f.field << " is set by no example in examples/";
  }
  for (const auto& e : supportedExtensions()) {
    EXPECT_TRUE(types.count(std::string(e.type))) << e.type << " is used by no example";
  }
}

}  // namespace
}  // namespace sluice::config
