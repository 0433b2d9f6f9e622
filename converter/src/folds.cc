// Split selection by stored split or cross-validation fold (folds.h), shared by every tool.
#include "qgnn/converter/folds.h"

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qgnn {
namespace converter {
namespace {

std::string s(int64_t v) { return std::to_string(v); }

bool is_fold_split(const std::string& split) { return split == "train" || split == "val" || split == "test"; }

// qgnn.train's fold_split (python/qgnn/folds.py): test = fold K, val = fold (K + 1) % k, train = the rest,
// each in graph order.
std::vector<uint32_t> fold_indices(const GraphSetDesc& set, const std::string& split, int32_t fold,
                                   int32_t k) {
  const int32_t val_fold = (fold + 1) % k;
  std::vector<uint32_t> r;
  for (size_t g = 0; g < set.fold.size(); ++g) {
    const int32_t f = set.fold[g];
    const bool take = split == "test"  ? f == fold
                      : split == "val" ? f == val_fold
                                       : f != fold && f != val_fold;
    if (take) r.push_back(static_cast<uint32_t>(g));
  }
  return r;
}

std::vector<uint32_t> sorted(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// The fold whose train, val and test splits are exactly the stored ones (as sets), or kStoredSplit. All three
// must match: a stored test equal to fold F's test with another train would still leak.
int32_t stored_split_fold(const GraphSetDesc& set, int32_t k) {
  const std::vector<uint32_t> train = sorted(set.train), val = sorted(set.val), test = sorted(set.test);
  for (int32_t f = 0; f < k; ++f) {
    if (fold_indices(set, "test", f, k) == test && fold_indices(set, "val", f, k) == val &&
        fold_indices(set, "train", f, k) == train)
      return f;
  }
  return kStoredSplit;
}

std::string fold_rule(int32_t fold, int32_t k) {
  return "test = fold " + s(fold) + ", val = fold " + s((fold + 1) % k) + ", train = the rest";
}

}  // namespace

int32_t num_folds(const GraphSetDesc& set) {
  if (set.fold.empty()) return 0;
  return static_cast<int32_t>(*std::max_element(set.fold.begin(), set.fold.end())) + 1;
}

Result<SplitSelection> select_split(const GraphSetDesc& set, const std::string& split, int32_t fold) {
  using R = Result<SplitSelection>;
  const bool node_task = set.task == Task::kNodeClassification;
  const int32_t k = num_folds(set);
  R r;
  SplitSelection& sel = r.value;
  sel.split = split;
  sel.fold = fold;
  sel.num_folds = k;
  if (fold == kStoredSplit) {
    Result<std::vector<uint32_t>> stored = split_indices(set, split);
    if (!stored.ok()) return R::failure(stored.error);
    sel.indices = std::move(stored.value);
  } else {
    if (fold < 0) return R::failure("--fold " + s(fold) + " is negative");
    if (node_task) {
      return R::failure("--fold applies to graph classification; data set \"" + set.name +
                        "\" is node classification (use its stored split: --split train, val or test)");
    }
    if (k == 0) {
      return R::failure("data set \"" + set.name +
                        "\" has no fold array (--fold needs one, e.g. from python3 -m qgnn.data tu; use its "
                        "stored split without --fold)");
    }
    if (k < kMinFolds) {
      return R::failure("data set \"" + set.name + "\" has " + s(k) +
                        " folds; cross-validation needs at least " + s(kMinFolds));
    }
    if (fold >= k) {
      return R::failure("--fold " + s(fold) + " outside 0.." + s(k - 1) + " (data set \"" + set.name +
                        "\" has " + s(k) + " folds)");
    }
    if (!is_fold_split(split)) {
      return R::failure("--fold " + s(fold) + " selects the train, val or test split of that fold; --split " +
                        split + " is every graph whatever the fold");
    }
    sel.indices = fold_indices(set, split, fold, k);
    if (sel.indices.empty()) {
      return R::failure("split \"" + split + "\" of fold " + s(fold) + " of data set \"" + set.name +
                        "\" is empty");
    }
  }

  if (node_task) {
    sel.nodes = static_cast<uint32_t>(sel.indices.size());
  } else {
    sel.graphs = static_cast<uint32_t>(sel.indices.size());
    for (uint32_t g : sel.indices) {
      if (g < static_cast<uint32_t>(set.num_graphs()))
        sel.nodes += static_cast<uint32_t>(set.graph_ptr[g + 1] - set.graph_ptr[g]);
    }
  }
  const std::string counts =
      node_task ? s(sel.nodes) + " nodes" : s(sel.graphs) + " graphs, " + s(sel.nodes) + " nodes";
  if (fold != kStoredSplit) {
    sel.description =
        "split " + split + " of fold " + s(fold) + " of " + s(k) + " (" + fold_rule(fold, k) + "): " + counts;
  } else if (split == "all") {
    sel.description = "split all: " + counts;
  } else {
    sel.description = "split " + split + " (stored): " + counts;
    if (k >= kMinFolds && !node_task) {
      const int32_t same = stored_split_fold(set, k);
      sel.note =
          same == kStoredSplit
              ? "split " + split + " is the data set's stored " + split + " split, which is no fold's (" +
                    s(k) + " folds); a model trained with --fold K is scored with --fold K"
              : "split " + split + " = fold " + s(same) + "'s " + split + " graphs (the stored split, " +
                    fold_rule(same, k) + "); a model trained on another fold needs --fold K";
    }
  }
  return r;
}

std::string split_selection_json(const SplitSelection& selection) {
  using json = nlohmann::ordered_json;
  json j;
  j["split"] = selection.split;
  j["fold"] = selection.fold == kStoredSplit ? json(nullptr) : json(selection.fold);
  j["num_folds"] = selection.num_folds;
  j["graphs"] = selection.graphs;
  j["nodes"] = selection.nodes;
  j["description"] = selection.description;
  j["note"] = selection.note.empty() ? json(nullptr) : json(selection.note);
  return j.dump();
}

TrainingFold training_fold(const std::string& model_description) {
  // The sentence of python/qgnn/train/cli.py; the val fold must be (K + 1) % N, or it is not that sentence.
  static const std::regex sentence(
      R"(Trained in float on fold (\d{1,3}) of (\d{1,3}) \(test = fold (\d{1,3}), val = fold (\d{1,3}), )"
      R"(train = the rest\))");
  TrainingFold r;
  std::smatch m;
  if (!std::regex_search(model_description, m, sentence)) return r;
  const int32_t fold = std::stoi(m[1].str()), k = std::stoi(m[2].str());
  const int32_t test = std::stoi(m[3].str()), val = std::stoi(m[4].str());
  if (k < kMinFolds || fold >= k || test != fold || val != (fold + 1) % k) return r;
  r.fold = fold;
  r.num_folds = k;
  return r;
}

std::string fold_mismatch_warning(const TrainingFold& trained, const GraphSetDesc& set,
                                  const SplitSelection& selection) {
  if (trained.fold == kStoredSplit || !is_fold_split(selection.split)) return "";
  const int32_t k = num_folds(set);
  if (k != trained.num_folds) {
    return "the model was trained on fold " + s(trained.fold) + " of " + s(trained.num_folds) +
           " (its description) but data set \"" + set.name + "\" has " + s(k) + " folds";
  }
  const int32_t used = selection.fold != kStoredSplit ? selection.fold : stored_split_fold(set, k);
  if (used == trained.fold) return "";
  const std::string what = selection.fold != kStoredSplit ? "fold " + s(used) + "'s"
                           : used == kStoredSplit         ? "the stored one, no fold's"
                                                          : "the stored one, fold " + s(used) + "'s";
  return "the model was trained on fold " + s(trained.fold) + " of " + s(k) +
         " (its description) but split " + selection.split + " here is " + what + ": use --fold " +
         s(trained.fold) + " for that model's own " + selection.split + " graphs";
}

}  // namespace converter
}  // namespace qgnn
