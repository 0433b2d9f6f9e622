// Calibration: observe every activation of the float forward pass over the calibration batches.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "qgnn/converter/quantizer.h"

namespace qgnn {
namespace converter {
namespace {

class MinMaxObserver : public RangeObserver {
 public:
  void observe(const float* values, size_t count) override {
    for (size_t i = 0; i < count; ++i) {
      range_.min = values[i] < range_.min ? values[i] : range_.min;
      range_.max = values[i] > range_.max ? values[i] : range_.max;
    }
  }
  ActivationRange range() const override { return range_; }

 private:
  ActivationRange range_;
};

// One observer per activation of the model, addressed like ActivationEvent.
struct ModelObservers {
  std::unique_ptr<RangeObserver> input;
  struct Layer {
    std::unique_ptr<RangeObserver> aggregation;
    std::vector<std::unique_ptr<RangeObserver>> hidden;
    std::unique_ptr<RangeObserver> output;
  };
  std::vector<Layer> layers;

  ModelObservers(const ModelDesc& model, RangeMethod method) : input(make_range_observer(method)) {
    layers.resize(model.layers.size());
    for (size_t i = 0; i < model.layers.size(); ++i) {
      layers[i].aggregation = make_range_observer(method);
      layers[i].output = make_range_observer(method);
      const size_t hidden = model.layers[i].mlp.empty() ? 0 : model.layers[i].mlp.size() - 1;
      for (size_t k = 0; k < hidden; ++k) layers[i].hidden.push_back(make_range_observer(method));
    }
  }

  RangeObserver* find(const ActivationEvent& e) {
    if (e.point == ActivationPoint::kInput) return input.get();
    Layer& l = layers[static_cast<size_t>(e.layer)];
    switch (e.point) {
      case ActivationPoint::kAggregation:
        return l.aggregation.get();
      case ActivationPoint::kHidden:
        return l.hidden[static_cast<size_t>(e.index)].get();
      default:
        return l.output.get();
    }
  }

  CalibrationRanges ranges() const {
    CalibrationRanges r;
    r.input = input->range();
    for (const Layer& l : layers) {
      LayerRanges lr;
      lr.aggregation = l.aggregation->range();
      lr.output = l.output->range();
      for (const auto& h : l.hidden) lr.hidden.push_back(h->range());
      r.layers.push_back(lr);
    }
    return r;
  }
};

std::string describe(const ActivationEvent& e) {
  switch (e.point) {
    case ActivationPoint::kInput:
      return "the input features";
    case ActivationPoint::kAggregation:
      return "the aggregation of layer " + std::to_string(e.layer);
    case ActivationPoint::kHidden:
      return "hidden activation " + std::to_string(e.index) + " of layer " + std::to_string(e.layer);
    case ActivationPoint::kOutput:
      break;
  }
  return "the output of layer " + std::to_string(e.layer);
}

}  // namespace

std::unique_ptr<RangeObserver> make_range_observer(RangeMethod method) {
  switch (method) {
    case RangeMethod::kMinMax:
      break;
  }
  return std::make_unique<MinMaxObserver>();
}

Result<CalibrationRanges> calibrate(const ModelDesc& float_model, const std::vector<GraphBatch>& batches,
                                    RangeMethod method) {
  using R = Result<CalibrationRanges>;
  if (batches.empty()) return R::failure("no calibration data");
  ModelObservers observers(float_model, method);
  std::string non_finite;
  const ActivationCallback callback = [&](const ActivationEvent& e) {
    const size_t count = e.rows * e.cols;
    for (size_t i = 0; i < count && non_finite.empty(); ++i) {
      if (!std::isfinite(e.values[i])) non_finite = describe(e) + " is not finite";
    }
    observers.find(e)->observe(e.values, count);
  };
  for (size_t b = 0; b < batches.size(); ++b) {
    const Result<std::vector<float>> out = run_float_model(float_model, batches[b], callback);
    if (!out.ok()) return R::failure("calibration batch " + std::to_string(b) + ": " + out.error);
    if (!non_finite.empty()) return R::failure("calibration batch " + std::to_string(b) + ": " + non_finite);
  }
  R r;
  r.value = observers.ranges();
  return r;
}

}  // namespace converter
}  // namespace qgnn
