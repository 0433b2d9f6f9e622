// How qgnn-run and qgnn-bench report the graphs they ran (converter::select_split): the JSON fields, the
// note on stderr for a stored split of a set with folds, and the warning when a model's training fold (its
// description) differs from the fold it is scored on.
#ifndef QGNN_TOOLS_COMMON_SELECTION_H_
#define QGNN_TOOLS_COMMON_SELECTION_H_

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "qgnn/converter/dataset.h"
#include "qgnn/converter/folds.h"
#include "qgnn/session.hpp"

namespace qgnn {
namespace tools {

/// Sets `fold` (null: the stored split) and `selection` (converter::split_selection_json) in `j`.
void add_selection_json(const converter::SplitSelection& selection, nlohmann::ordered_json* j);

/// The description string of a loaded (verified) model; "" when it has none.
std::string model_description(const session::Session& model);

/// Prints "<tool>: note: <selection.note>" when there is one and returns the fold-mismatch warning for the
/// model (converter::fold_mismatch_warning), printed as "<tool>: warning: ..." when non-empty.
std::string report_selection(const char* tool, const converter::SplitSelection& selection,
                             const converter::GraphSetDesc& set, const session::Session* model,
                             std::FILE* out);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_COMMON_SELECTION_H_
