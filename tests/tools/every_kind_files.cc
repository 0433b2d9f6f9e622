#include "every_kind_files.h"

#include <random>

#include "qgnn/schema/qgnn_generated.h"
#include "test_models.h"

namespace qgnn {
namespace tools {
namespace testing {

converter::Result<std::vector<ModelFile>> every_kind_model_files() {
  using R = converter::Result<std::vector<ModelFile>>;
  std::mt19937 rng(2024);
  converter::Result<std::vector<converter::ModelDesc>> models = converter::testing::every_kind_models(rng);
  if (!models.ok()) return R::failure(models.error);
  R files;
  for (converter::ModelDesc& desc : models.value) {
    converter::Result<std::vector<uint8_t>> bytes = converter::serialize_model(desc);
    if (!bytes.ok()) return R::failure(desc.name + ": " + bytes.error);
    files.value.push_back({std::move(desc), std::move(bytes.value)});
  }
  return files;
}

LayerTensorsInFile layer_tensors_in_file(const std::vector<uint8_t>& bytes, const std::string& layer) {
  const fb::Model* model = fb::GetModel(bytes.data());
  const std::string prefix = layer + ".";
  const std::string weight = ".weight";
  LayerTensorsInFile found;
  for (const fb::Tensor* t : *model->tensors()) {
    const std::string name = t->name()->str();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    found.bytes += model->buffers()->Get(t->buffer())->data()->size();
    if (name.size() >= weight.size() && name.compare(name.size() - weight.size(), weight.size(), weight) == 0)
      ++found.weights;
  }
  return found;
}

}  // namespace testing
}  // namespace tools
}  // namespace qgnn
