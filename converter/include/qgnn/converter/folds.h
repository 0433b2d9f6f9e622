// Which graphs (or nodes) a tool runs on: a stored split, or a split of one cross-validation fold of the
// data set's `fold` array. Every tool (qgnn-run, qgnn-bench, qgnn-convert --calib / --val) resolves its
// --split / --fold through select_split, so all of them agree with `python3 -m qgnn.train --fold K`
// (python/qgnn/folds.py): test = fold K, val = fold (K + 1) % k, train = the rest.
#ifndef QGNN_CONVERTER_FOLDS_H_
#define QGNN_CONVERTER_FOLDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"

namespace qgnn {
namespace converter {

/// --fold not given: the set's stored train/val/test split.
constexpr int32_t kStoredSplit = -1;

/// Cross-validation needs a train, a val and a test fold (as qgnn.train's fold_split).
constexpr int32_t kMinFolds = 3;

/// A resolved split.
struct SplitSelection {
  std::string split;              ///< "train", "val", "test" or "all"
  int32_t fold = kStoredSplit;    ///< the fold asked for, or kStoredSplit
  int32_t num_folds = 0;          ///< k of the set's fold array (0: it has none)
  std::vector<uint32_t> indices;  ///< graphs (graph task) or nodes (node task), in order
  uint32_t graphs = 0;            ///< graphs selected (node task: 0)
  uint32_t nodes = 0;             ///< nodes of those graphs (node task: the nodes selected)
  /// One line on what was selected, e.g. "split test of fold 1 of 10 (test = fold 1, val = fold 2, train
  /// = the rest): 19 graphs, 335 nodes".
  std::string description;
  /// Non-empty when a stored split of a set with folds was used without --fold: says which fold's split
  /// that is, so that scoring a fold-K model on it is not a silent mistake.
  std::string note;
};

/// The selection as one JSON object (text): {"split", "fold" (null: the stored split), "num_folds", "graphs",
/// "nodes", "description", "note" (null when none)}; the tools put it in their --json and report output.
std::string split_selection_json(const SplitSelection& selection);

/// k of the set's fold array: its largest entry + 1, 0 when the set has no fold array.
int32_t num_folds(const GraphSetDesc& set);

/// The split `split` ("train", "val", "test" or "all") of `set`, of fold `fold` (kStoredSplit: the stored
/// one). Fails with a message on an unknown split, an empty selection, --fold on a node-classification set,
/// on a set without a fold array or with fewer than kMinFolds folds, a fold out of range, and --fold with
/// "all" (every graph whatever the fold).
Result<SplitSelection> select_split(const GraphSetDesc& set, const std::string& split, int32_t fold);

/// The fold a model was trained on, read from the sentence `python3 -m qgnn.train` writes into the model's
/// description ("Trained in float on fold K of N (test = fold K, val = fold (K+1)%N, train = the rest)").
/// Only that exact, self-consistent sentence counts; anything else gives kStoredSplit.
struct TrainingFold {
  int32_t fold = kStoredSplit;
  int32_t num_folds = 0;
};
TrainingFold training_fold(const std::string& model_description);

/// A warning when a model trained on fold F (per training_fold) is run on a selection of another fold (or
/// on the stored split when that is not fold F's), naming both; "" when they agree or nothing is known.
std::string fold_mismatch_warning(const TrainingFold& trained, const GraphSetDesc& set,
                                  const SplitSelection& selection);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_FOLDS_H_
