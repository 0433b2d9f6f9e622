#include "common/input_form.h"

#include "qgnn/converter/runtime_graph.h"

namespace qgnn {
namespace tools {

const char* input_form_name(InputForm form) {
  switch (form) {
    case InputForm::kSparse:
      return "sparse";
    case InputForm::kInt8:
      return "int8";
    case InputForm::kDense:
      break;
  }
  return "dense";
}

bool choose_input_form(const session::Session& model, const converter::GraphSetDesc& set,
                       const std::string& requested, InputForm* form, std::string* error) {
  const qgnn_model_info& info = model.info();
  if (requested != "auto" && requested != "dense" && requested != "sparse") {
    *error = "unknown --input \"" + requested + "\" (expected auto, dense or sparse)";
    return false;
  }
  if (requested == "sparse") {
    if (!model.accepts_sparse_features()) {
      // A runtime built with QGNN_SPARSE_FEATURES=OFF accepts them for no model.
      *error = std::string("--input sparse: the model does not accept sparse features (") +
               (info.input_is_int8
                    ? "it takes int8 input"
                    : "its input is read by more than Dense ops (Linear, transform-first GCNConv or "
                      "SAGEConv; in a float model, without BatchNorm), or the runtime was "
                      "built with QGNN_SPARSE_FEATURES=OFF") +
               "); use --input dense or auto";
      return false;
    }
    *form = InputForm::kSparse;
    return true;
  }
  if (info.input_is_int8) {
    *form = InputForm::kInt8;
  } else if (requested == "auto" && set.sparse_features() && model.accepts_sparse_features()) {
    *form = InputForm::kSparse;
  } else {
    *form = InputForm::kDense;
  }
  return true;
}

void convert_batch(converter::GraphBatch* batch, InputForm form) {
  if (form == InputForm::kSparse) {
    converter::sparsify_features(batch);
  } else {
    converter::densify_features(batch);
  }
}

session::Result<bool> bind_batch(session::Session* model, const converter::GraphBatch& batch,
                                 const int8_t* features_i8) {
  const qgnn_graph graph = converter::runtime_graph(batch, features_i8);
  if (batch.sparse_features()) return model->bind_sparse(graph, converter::sparse_features(batch));
  return model->bind(graph);
}

}  // namespace tools
}  // namespace qgnn
