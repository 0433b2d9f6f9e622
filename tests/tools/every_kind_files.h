// The converter tests' every_kind_models (every layer kind, float and quantized, each order) as files, for
// the tests of the tools' model readers.
#ifndef QGNN_TESTS_TOOLS_EVERY_KIND_FILES_H_
#define QGNN_TESTS_TOOLS_EVERY_KIND_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace tools {
namespace testing {

/// A description and the bytes serialize_model wrote for it.
struct ModelFile {
  converter::ModelDesc desc;
  std::vector<uint8_t> bytes;
  std::string label() const { return desc.name + (desc.quantized ? " quantized" : " float"); }
};

/// Fails only if quantizing or serializing a model does.
converter::Result<std::vector<ModelFile>> every_kind_model_files();

/// What a layer stores as parameters, read from the FlatBuffer alone: the file's tensors named
/// "<layer>.<...>".
struct LayerTensorsInFile {
  size_t bytes = 0;    ///< their buffers
  size_t weights = 0;  ///< how many are Dense weights ("<...>.weight")
};
LayerTensorsInFile layer_tensors_in_file(const std::vector<uint8_t>& bytes, const std::string& layer);

}  // namespace testing
}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TESTS_TOOLS_EVERY_KIND_FILES_H_
