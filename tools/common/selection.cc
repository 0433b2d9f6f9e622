#include "common/selection.h"

#include <flatbuffers/flatbuffers.h>

#include "qgnn/schema/qgnn_generated.h"

namespace qgnn {
namespace tools {

void add_selection_json(const converter::SplitSelection& selection, nlohmann::ordered_json* j) {
  const nlohmann::ordered_json s = nlohmann::ordered_json::parse(converter::split_selection_json(selection));
  (*j)["fold"] = s["fold"];
  (*j)["selection"] = s;
}

std::string model_description(const session::Session& model) {
  // The session verified the buffer when it loaded it, so reading it in place is safe.
  const fb::Model* m = fb::GetModel(model.model_data());
  return m != nullptr && m->description() != nullptr ? m->description()->str() : std::string();
}

std::string report_selection(const char* tool, const converter::SplitSelection& selection,
                             const converter::GraphSetDesc& set, const session::Session* model,
                             std::FILE* out) {
  if (!selection.note.empty()) std::fprintf(out, "%s: note: %s\n", tool, selection.note.c_str());
  if (model == nullptr) return "";
  const std::string warning =
      converter::fold_mismatch_warning(converter::training_fold(model_description(*model)), set, selection);
  if (!warning.empty()) std::fprintf(out, "%s: warning: %s\n", tool, warning.c_str());
  return warning;
}

}  // namespace tools
}  // namespace qgnn
