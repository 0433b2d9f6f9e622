// The greedy bit-selection search of auto_bits.h.
#include "qgnn/converter/auto_bits.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "qgnn/converter/layer_kind.h"

namespace qgnn {
namespace converter {
namespace {

using Kind = BitComponent::Kind;

std::string layer_name(const ModelDesc& model, size_t i) {
  return model.layers[i].name.empty() ? "L" + std::to_string(i) : model.layers[i].name;
}

std::string format_percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f %%", 100.0 * fraction);
  return text;
}

// Comparison slack for accuracies computed as ratios of counts.
constexpr double kAccuracyEpsilon = 1e-12;

class Search {
 public:
  Search(const ModelDesc& model, const BuildModel& build, const Evaluate& evaluate,
         const AutoBitsOptions& options, const Progress& progress)
      : model_(model),
        components_(searchable_components(model)),
        build_(build),
        evaluate_(evaluate),
        options_(options),
        progress_(progress) {
    result_.budget_mode = options.budget_bytes > 0;
    result_.max_drop_points = options.max_drop_points;
    result_.budget_bytes = options.budget_bytes;
  }

  Result<AutoBitsResult> run(const std::vector<uint8_t>& float_model_bytes) {
    using R = Result<AutoBitsResult>;
    const size_t c = components_.size();
    planned_end_ = 1 + 4 + c * (c + 1) / 2;
    const Result<RuntimeEvaluation> reference = evaluate_(float_model_bytes);
    if (!reference.ok()) return R::failure("evaluating the float model: " + reference.error);
    Candidate& f = result_.float_reference;
    f.config = options_.base;
    f.label = "float32";
    fill(reference.value, &f);
    threshold_ = f.accuracy - options_.max_drop_points / 100.0 - kAccuracyEpsilon;
    f.within_drop = true;
    f.within_budget = !result_.budget_mode || f.total_bytes() <= options_.budget_bytes;
    report(f);

    // Structured points: uniform widths, and weights vs activations.
    std::vector<std::vector<int>> structured = {uniform(8), uniform(4), std::vector<int>(c, 8),
                                                std::vector<int>(c, 4)};
    for (size_t k = 0; k < c; ++k) {
      const bool weights = components_[k].kind == Kind::kWeights;
      structured[2][k] = weights ? 4 : 8;
      structured[3][k] = weights ? 8 : 4;
    }
    for (size_t s = 0; s < structured.size(); ++s) {
      planned_end_ = evaluations_ + (structured.size() - s) + c * (c + 1) / 2;
      const Result<size_t> p = point(structured[s]);
      if (!p.ok()) return R::failure(p.error);
    }

    std::vector<int> current = uniform(8);
    const std::string descent = result_.budget_mode ? budget_descent(&current) : drop_descent(&current);
    if (!descent.empty()) return R::failure(descent);
    return finish();
  }

 private:
  std::vector<int> uniform(int bits) const { return std::vector<int>(components_.size(), bits); }

  static void fill(const RuntimeEvaluation& e, Candidate* out) {
    out->accuracy = e.accuracy();
    out->correct = e.correct;
    out->total = e.total;
    out->model_bytes = e.model_bytes;
    out->parameter_bytes = e.parameter_bytes;
    out->arena_bytes = e.arena_bytes;
  }

  static std::string key(const std::vector<int>& bits) {
    std::string k;
    for (const int b : bits) k += static_cast<char>('0' + b);
    return k;
  }

  // Index of the point in explored, building and evaluating it the first time it is asked for.
  Result<size_t> point(const std::vector<int>& bits) {
    using R = Result<size_t>;
    const std::string k = key(bits);
    const auto seen = memo_.find(k);
    if (seen != memo_.end()) return R{seen->second, ""};
    Candidate cand;
    cand.config = config_for_bits(model_, components_, bits, options_.base);
    cand.label = bits_label(model_, cand.config);
    const Result<std::vector<uint8_t>> bytes = build_(cand.config);
    if (!bytes.ok()) return R::failure("building " + cand.label + ": " + bytes.error);
    const Result<RuntimeEvaluation> e = evaluate_(bytes.value);
    if (!e.ok()) return R::failure("evaluating " + cand.label + ": " + e.error);
    fill(e.value, &cand);
    cand.within_drop = cand.accuracy >= threshold_;
    cand.within_budget = !result_.budget_mode || cand.total_bytes() <= options_.budget_bytes;
    result_.explored.push_back(cand);
    explored_bits_.push_back(bits);
    const size_t index = result_.explored.size() - 1;
    memo_[k] = index;
    report(result_.explored[index]);
    return R{index, ""};
  }

  void report(const Candidate& last) {
    ++evaluations_;
    if (!progress_) return;
    const size_t chosen = choose();
    const Candidate* best = chosen < result_.explored.size() ? &result_.explored[chosen] : nullptr;
    progress_(evaluations_, std::max(planned_end_, evaluations_), last, best);
  }

  bool feasible(const Candidate& c) const { return result_.budget_mode ? c.within_budget : c.within_drop; }

  // True when `a` is a better choice than `b` (both feasible): smaller (drop mode) or more accurate (budget).
  bool preferred(const Candidate& a, const Candidate& b) const {
    if (result_.budget_mode) {
      if (a.accuracy != b.accuracy) return a.accuracy > b.accuracy;
      return a.total_bytes() < b.total_bytes();
    }
    if (a.total_bytes() != b.total_bytes()) return a.total_bytes() < b.total_bytes();
    return a.accuracy > b.accuracy;
  }

  // Index of the current choice, explored.size() when no point is feasible. Exact ties keep the earliest.
  size_t choose() const {
    size_t best = result_.explored.size();
    for (size_t i = 0; i < result_.explored.size(); ++i) {
      const Candidate& c = result_.explored[i];
      if (feasible(c) && (best == result_.explored.size() || preferred(c, result_.explored[best]))) best = i;
    }
    return best;
  }

  // Greedy move rank: bytes saved per accuracy point lost; a move losing nothing ranks above any that loses
  // something; ties go to the larger saving.
  struct Move {
    size_t index = 0;
    size_t component = 0;
    double ratio = 0.0;
    long long saved = 0;
  };
  static bool better_move(const Move& a, const Move& b) {
    if (a.ratio != b.ratio) return a.ratio > b.ratio;
    return a.saved > b.saved;
  }
  Move rank(const Candidate& from, const Candidate& to, size_t index, size_t component) const {
    Move m;
    m.index = index;
    m.component = component;
    m.saved = static_cast<long long>(from.total_bytes()) - static_cast<long long>(to.total_bytes());
    const double lost_points = 100.0 * (from.accuracy - to.accuracy);
    m.ratio = lost_points <= kAccuracyEpsilon ? std::numeric_limits<double>::infinity()
                                              : static_cast<double>(m.saved) / lost_points;
    return m;
  }

  size_t count_at(const std::vector<int>& bits, int value) const {
    return static_cast<size_t>(std::count(bits.begin(), bits.end(), value));
  }

  // One round of lowering moves from `current`: the best-ranked one that saves bytes and, when
  // `keep_drop`, stays within the drop. When no move saves bytes, a plateau move (same bytes) is taken, the
  // most accurate one: the arena is the peak of the tensors live at once, so it only shrinks once all of
  // them are narrow, and narrowing them one at a time saves nothing until the last. Moves that add bytes are
  // never taken. Returns false (and sets *error on failure) when there is no move.
  bool lower_once(std::vector<int>* current, bool keep_drop, std::string* error) {
    const size_t m = count_at(*current, 8);
    planned_end_ = evaluations_ + m * (m + 1) / 2;
    const Result<size_t> from = point(*current);
    if (!from.ok()) {
      *error = from.error;
      return false;
    }
    bool found = false, plateau_found = false;
    Move best, plateau;
    for (size_t k = 0; k < current->size(); ++k) {
      if ((*current)[k] != 8) continue;
      std::vector<int> next = *current;
      next[k] = 4;
      const Result<size_t> to = point(next);
      if (!to.ok()) {
        *error = to.error;
        return false;
      }
      const Candidate& cand = result_.explored[to.value];
      if (keep_drop && !cand.within_drop) continue;
      const Move move = rank(result_.explored[from.value], cand, to.value, k);
      if (move.saved > 0) {
        if (!found || better_move(move, best)) best = move;
        found = true;
      } else if (move.saved == 0 &&
                 (!plateau_found || cand.accuracy > result_.explored[plateau.index].accuracy)) {
        plateau = move;
        plateau_found = true;
      }
    }
    if (!found && !plateau_found) return false;
    (*current)[found ? best.component : plateau.component] = 4;
    return true;
  }

  std::string drop_descent(std::vector<int>* current) {
    std::string error;
    while (lower_once(current, true, &error)) {
    }
    return error;
  }

  std::string budget_descent(std::vector<int>* current) {
    std::string error;
    for (;;) {
      const Result<size_t> at = point(*current);
      if (!at.ok()) return at.error;
      if (result_.explored[at.value].within_budget) break;
      if (!lower_once(current, false, &error)) return error;
    }
    // Inside the budget: from the most accurate point found that fits (a structured point may beat the
    // descent's end), flip single components while accuracy strictly improves (so this ends).
    *current = explored_bits_[choose()];
    for (;;) {
      const size_t here = point(*current).value;  // memoized: cannot fail
      planned_end_ = evaluations_ + current->size();
      bool found = false;
      size_t best_index = 0, best_component = 0;
      for (size_t k = 0; k < current->size(); ++k) {
        std::vector<int> next = *current;
        next[k] = next[k] == 8 ? 4 : 8;
        const Result<size_t> to = point(next);
        if (!to.ok()) return to.error;
        const Candidate& cand = result_.explored[to.value];
        const Candidate& reference = found ? result_.explored[best_index] : result_.explored[here];
        if (cand.within_budget &&
            (cand.accuracy > reference.accuracy || (found && cand.accuracy == reference.accuracy &&
                                                    cand.total_bytes() < reference.total_bytes()))) {
          found = true;
          best_index = to.value;
          best_component = k;
        }
      }
      if (!found) return "";
      (*current)[best_component] = (*current)[best_component] == 8 ? 4 : 8;
    }
  }

  Result<AutoBitsResult> finish() {
    using R = Result<AutoBitsResult>;
    const std::vector<Candidate>& explored = result_.explored;
    result_.chosen = choose();
    if (result_.chosen == explored.size()) {
      if (result_.budget_mode) {
        size_t smallest = 0;
        for (size_t i = 1; i < explored.size(); ++i) {
          if (explored[i].total_bytes() < explored[smallest].total_bytes()) smallest = i;
        }
        const Candidate& s = explored[smallest];
        return R::failure("impossible budget: the smallest model found needs " +
                          std::to_string(s.total_bytes()) + " bytes (" + s.label + ": model " +
                          std::to_string(s.model_bytes) + " + arena " + std::to_string(s.arena_bytes) +
                          "), the budget is " + std::to_string(options_.budget_bytes) + " bytes");
      }
      size_t most = 0;
      for (size_t i = 1; i < explored.size(); ++i) {
        if (explored[i].accuracy > explored[most].accuracy) most = i;
      }
      char drop[32];
      std::snprintf(drop, sizeof(drop), "%g", options_.max_drop_points);
      return R::failure("no bit assignment keeps the accuracy within " + std::string(drop) +
                        " points of the float model (" + format_percent(result_.float_reference.accuracy) +
                        "): the most accurate found is " + explored[most].label + " with " +
                        format_percent(explored[most].accuracy));
    }
    // Pareto front: by bytes (then accuracy, then evaluation order), keep a point when it is strictly more
    // accurate than every smaller-or-equal one kept before it.
    std::vector<size_t> order(explored.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (explored[a].total_bytes() != explored[b].total_bytes()) {
        return explored[a].total_bytes() < explored[b].total_bytes();
      }
      return explored[a].accuracy > explored[b].accuracy;
    });
    double best_accuracy = -1.0;
    for (const size_t i : order) {
      if (explored[i].accuracy > best_accuracy) {
        result_.pareto.push_back(i);
        best_accuracy = explored[i].accuracy;
      }
    }
    return R{result_, ""};
  }

  const ModelDesc& model_;
  const std::vector<BitComponent> components_;
  const BuildModel& build_;
  const Evaluate& evaluate_;
  const AutoBitsOptions& options_;
  const Progress& progress_;
  AutoBitsResult result_;
  std::vector<std::vector<int>> explored_bits_;  ///< bits of each explored point
  std::map<std::string, size_t> memo_;
  double threshold_ = 0.0;
  size_t evaluations_ = 0;
  size_t planned_end_ = 0;
};

}  // namespace

std::vector<BitComponent> searchable_components(const ModelDesc& float_model) {
  std::vector<BitComponent> out;
  out.push_back({Kind::kInput, -1});
  for (size_t i = 0; i < float_model.layers.size(); ++i) {
    const LayerKindTraits& kind = layer_traits(float_model.layers[i].kind);
    const int layer = static_cast<int>(i);
    if (kind.weights) out.push_back({Kind::kWeights, layer});
    // A GATConv's messages are its SPEC `agg` component (bit_spec.cc), its logits `att`.
    if (kind.aggregation || kind.attention) out.push_back({Kind::kAggregation, layer});
    if (kind.attention) out.push_back({Kind::kAttention, layer});
    // The last layer's output is the logits, kept at 8 bits.
    if (i + 1 < float_model.layers.size()) out.push_back({Kind::kOutput, layer});
  }
  return out;
}

QuantizerConfig config_for_bits(const ModelDesc& float_model, const std::vector<BitComponent>& components,
                                const std::vector<int>& bits, const QuantizerConfig& base) {
  QuantizerConfig config = base;
  config.input_bits = 8;
  config.default_bits = ComponentBits();
  config.int8_logits = true;
  config.layer_bits.clear();
  for (size_t i = 0; i < float_model.layers.size(); ++i)
    config.layer_bits[static_cast<int>(i)] = ComponentBits();
  for (size_t k = 0; k < components.size() && k < bits.size(); ++k) {
    const BitComponent& c = components[k];
    if (c.kind == Kind::kInput) {
      config.input_bits = bits[k];
      continue;
    }
    ComponentBits& layer = config.layer_bits[c.layer];
    if (c.kind == Kind::kWeights) layer.weights = bits[k];
    if (c.kind == Kind::kAggregation) layer.aggregation = bits[k];
    if (c.kind == Kind::kAttention) layer.attention = bits[k];
    if (c.kind == Kind::kOutput) layer.output = bits[k];
  }
  return config;
}

std::string bits_label(const ModelDesc& float_model, const QuantizerConfig& config) {
  std::string label = "in" + std::to_string(config.input_bits);
  for (size_t i = 0; i < float_model.layers.size(); ++i) {
    const auto it = config.layer_bits.find(static_cast<int>(i));
    const ComponentBits bits = it == config.layer_bits.end() ? config.default_bits : it->second;
    const LayerKindTraits& kind = layer_traits(float_model.layers[i].kind);
    std::string part;
    if (kind.weights) part += "w" + std::to_string(bits.weights);
    if (kind.aggregation || kind.attention) part += "a" + std::to_string(bits.aggregation);
    if (kind.attention) part += "e" + std::to_string(bits.attention);
    if (i + 1 < float_model.layers.size()) part += "o" + std::to_string(bits.output);
    if (!part.empty()) label += " " + layer_name(float_model, i) + ":" + part;
  }
  return label;
}

Result<AutoBitsResult> search_bits(const ModelDesc& float_model,
                                   const std::vector<uint8_t>& float_model_bytes, const BuildModel& build,
                                   const Evaluate& evaluate, const AutoBitsOptions& options,
                                   const Progress& progress) {
  using R = Result<AutoBitsResult>;
  if (!build || !evaluate) return R::failure("auto bits: no model builder or evaluator given");
  if (float_model.quantized) return R::failure("auto bits: the model is already quantized");
  if (float_model.layers.empty()) return R::failure("auto bits: the model has no layers");
  if (!(options.max_drop_points >= 0.0))
    return R::failure("auto bits: the accuracy drop must be >= 0 points");
  Search search(float_model, build, evaluate, options, progress);
  return search.run(float_model_bytes);
}

}  // namespace converter
}  // namespace qgnn
