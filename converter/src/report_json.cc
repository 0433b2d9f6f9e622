// The conversion report as JSON (report.h): ordered keys, so that reports diff cleanly between runs.
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "qgnn/converter/report.h"

namespace qgnn {
namespace converter {
namespace {

using Json = nlohmann::ordered_json;

// JSON has no infinity: an SQNR without any error is null.
Json finite_or_null(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json activation_json(const ActivationReport& a) {
  Json j;
  j["name"] = a.name;
  j["bits"] = a.bits;
  j["observed_min"] = a.observed_min;
  j["observed_max"] = a.observed_max;
  j["range_min"] = a.range_min;
  j["range_max"] = a.range_max;
  j["scale"] = a.scale;
  j["zero_point"] = a.zero_point;
  j["values"] = a.values;
  j["clipped_fraction"] = a.clipped_fraction;
  j["sqnr_db"] = finite_or_null(a.sqnr_db);
  j["zero_fraction"] = a.zero_fraction;
  j["degenerate"] = a.degenerate;
  j["min_sqnr_db"] = a.min_sqnr_db;
  j["warning"] = a.warning.empty() ? Json(nullptr) : Json(a.warning);
  return j;
}

Json dense_json(const DenseReport& d) {
  Json j;
  j["name"] = d.name;
  j["bits"] = d.bits;
  j["out_features"] = d.out_features;
  j["in_features"] = d.in_features;
  j["weight_sqnr_db"] = finite_or_null(d.weight_sqnr_db);
  j["weight_bytes"] = d.weight_bytes;
  j["bias_bytes"] = d.bias_bytes;
  j["quant_param_bytes"] = d.quant_param_bytes;
  return j;
}

}  // namespace

std::string report_to_json(const ConversionReport& report) {
  Json j;
  j["range_method"] = range_method_name(report.ranges.method);
  j["sigma"] = report.ranges.sigma;
  j["percentile"] = report.ranges.percentile;
  j["totals"] = Json{{"weight_bytes", report.weight_bytes},
                     {"bias_bytes", report.bias_bytes},
                     {"quant_param_bytes", report.quant_param_bytes}};
  j["input"] = Json::array();
  for (const ActivationReport& a : report.input) j["input"].push_back(activation_json(a));
  j["layers"] = Json::array();
  for (const LayerReport& l : report.layers) {
    Json layer;
    layer["name"] = l.name;
    layer["kind"] = l.kind;
    layer["quant_param_bytes"] = l.quant_param_bytes;
    layer["dense"] = Json::array();
    for (const DenseReport& d : l.dense) layer["dense"].push_back(dense_json(d));
    layer["activations"] = Json::array();
    for (const ActivationReport& a : l.activations) layer["activations"].push_back(activation_json(a));
    j["layers"].push_back(layer);
  }
  j["notes"] = report.notes;
  j["warnings"] = report.warnings;
  return j.dump(2) + "\n";
}

}  // namespace converter
}  // namespace qgnn
