#include "config/data_source.h"

#include <fstream>

namespace sluice::config {
namespace {

// A certificate, key or body file larger than this is not one (a guard
// against naming the wrong file).
constexpr std::streamsize kMaxDataSourceBytes = 1 << 20;

}  // namespace

std::optional<std::string> readDataSource(const envoy::config::core::v3::DataSource& source, const std::string& path,
                                          ErrorList& errors) {
  using DataSource = envoy::config::core::v3::DataSource;
  switch (source.specifier_case()) {
    case DataSource::kInlineString:
      return source.inline_string();
    case DataSource::kInlineBytes:
      return source.inline_bytes();
    case DataSource::kFilename: {
      std::ifstream in(source.filename(), std::ios::binary);
      if (!in) {
        errors.add(path + ".filename", "cannot read '" + source.filename() + "'");
        return std::nullopt;
      }
      std::string data(static_cast<size_t>(kMaxDataSourceBytes) + 1, '\0');
      in.read(data.data(), kMaxDataSourceBytes + 1);
      if (in.gcount() > kMaxDataSourceBytes) {
        errors.add(path + ".filename", "'" + source.filename() + "' is larger than 1 MiB");
        return std::nullopt;
      }
      data.resize(static_cast<size_t>(in.gcount()));
      return data;
    }
    default:
      errors.add(path, "needs filename, inline_string or inline_bytes");
      return std::nullopt;
  }
}

}  // namespace sluice::config
