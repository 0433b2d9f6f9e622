// Which form of the node features qgnn-run and qgnn-bench hand to the runtime (--input auto|dense|sparse):
// dense floats (qgnn_interpreter_setup), sparse floats (qgnn_interpreter_setup_sparse, for models that accept
// them) or int8 (models with int8 input). The outputs are the same bytes for the dense and the sparse form.
#ifndef QGNN_TOOLS_COMMON_INPUT_FORM_H_
#define QGNN_TOOLS_COMMON_INPUT_FORM_H_

#include <cstdint>
#include <string>

#include "qgnn/converter/dataset.h"
#include "qgnn/session.hpp"

namespace qgnn {
namespace tools {

enum class InputForm { kDense, kSparse, kInt8 };

/// "dense", "sparse", "int8" (the tools' report and JSON field "input").
const char* input_form_name(InputForm form);

/// The form for `model` on `set` under --input `requested`: "auto" is sparse when the set stores sparse
/// features and the model accepts them, int8 for int8-input models, else dense; "dense" forces dense floats
/// (int8 for int8-input models, which take nothing else); "sparse" forces sparse floats (a dense set is
/// converted per batch) and fails with `error` when the model does not accept them.
bool choose_input_form(const session::Session& model, const converter::GraphSetDesc& set,
                       const std::string& requested, InputForm* form, std::string* error);

/// Brings a batch extracted as stored (converter::FeatureForm::kAsStored) into `form`'s features: CSR for
/// sparse, dense rows for dense and int8 (which are quantized from them).
void convert_batch(converter::GraphBatch* batch, InputForm form);

/// Binds `batch` for the next invoke: bind_sparse for sparse batches, else bind with the dense floats or
/// `features_i8` (non-null for int8-input models).
session::Result<bool> bind_batch(session::Session* model, const converter::GraphBatch& batch,
                                 const int8_t* features_i8);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_COMMON_INPUT_FORM_H_
