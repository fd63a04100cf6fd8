// The supported-subset gate, its table, and docs/CONFIG.md generated from it.
#include "config/supported_fields.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/yaml_to_proto.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace sluice::config {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;

ErrorList gate(std::string_view yaml) {
  Bootstrap b;
  ErrorList errors;
  parseYamlInto(yaml, b, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  checkSupported(b, "", errors);
  return errors;
}

constexpr std::string_view kListenerPrefix = R"(
static_resources:
  listeners:
  - name: l
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: in
)";

TEST(SupportedFields, EveryTableEntryNamesARealField) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto& f : supportedFields()) {
    const auto* message = pool->FindMessageTypeByName(std::string(f.message));
    ASSERT_NE(message, nullptr) << f.message;
    const auto* field = message->FindFieldByName(std::string(f.field));
    ASSERT_NE(field, nullptr) << f.message << "." << f.field;
    if (!f.enum_values.empty()) {
      ASSERT_EQ(field->cpp_type(), google::protobuf::FieldDescriptor::CPPTYPE_ENUM) << f.field;
      std::string values(f.enum_values);
      std::stringstream ss(values);
      for (std::string v; std::getline(ss, v, '|');) {
        EXPECT_NE(field->enum_type()->FindValueByName(v), nullptr) << f.message << "." << f.field << " " << v;
      }
    }
  }
  for (const auto& e : supportedExtensions()) {
    EXPECT_NE(pool->FindMessageTypeByName(std::string(e.type)), nullptr) << e.type;
  }
}

TEST(SupportedFields, AcceptsSupportedFields) {
  EXPECT_TRUE(
      gate("static_resources: { clusters: [ { name: a, connect_timeout: 1s, lb_policy: MAGLEV } ] }\n").empty());
}

TEST(SupportedFields, RejectsAnUnsupportedFieldByPath) {
  const auto errors = gate("static_resources: { clusters: [ { name: a }, { name: b, health_checks: [ {} ] } ] }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(), "static_resources.clusters[1].health_checks: is not supported by sluice");
}

TEST(SupportedFields, RejectsAnUnsupportedTopLevelField) {
  const auto errors = gate("overload_manager: { refresh_interval: 1s }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(), "overload_manager: is not supported by sluice");
}

TEST(SupportedFields, RejectsAnUnsupportedEnumValue) {
  const auto errors = gate("static_resources: { clusters: [ { name: a, type: ORIGINAL_DST } ] }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "static_resources.clusters[0].type: ORIGINAL_DST is not supported by sluice (supported: STATIC, "
            "STRICT_DNS, LOGICAL_DNS, EDS)");
}

TEST(SupportedFields, RejectsUnsupportedFieldsInsideTypedConfigs) {
  const auto errors = gate(std::string(kListenerPrefix) + "          generate_request_id: false\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.generate_request_id: is not "
            "supported by sluice");
}

TEST(SupportedFields, RejectsAnUnsupportedTypedConfig) {
  const auto errors = gate(std::string(kListenerPrefix) +
                           "          http_filters:\n"
                           "          - name: envoy.filters.http.cors\n"
                           "            typed_config:\n"
                           "              \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config: "
            "typed config 'envoy.config.cluster.v3.Cluster' is not supported by sluice");
}

TEST(SupportedFields, GeneratedDocMatchesCommittedDocsConfigMd) {
  std::ifstream in(SLUICE_SOURCE_DIR "/docs/CONFIG.md");
  ASSERT_TRUE(in) << "docs/CONFIG.md is missing";
  std::stringstream committed;
  committed << in.rdbuf();
  EXPECT_EQ(committed.str(), supportedSubsetMarkdown())
      << "docs/CONFIG.md is out of date: run build/release/src/sluice-config-doc > docs/CONFIG.md";
}

TEST(SupportedFields, GeneratedDocListsEveryField) {
  const std::string doc = supportedSubsetMarkdown();
  for (const auto& f : supportedFields()) {
    EXPECT_NE(doc.find("### `" + std::string(f.message) + "`"), std::string::npos) << f.message;
    EXPECT_NE(doc.find("| `" + std::string(f.field) + "` |"), std::string::npos) << f.field;
  }
}

}  // namespace
}  // namespace sluice::config
