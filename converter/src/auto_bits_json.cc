// auto_bits_to_json: hand-written so the key order is stable and the converter library needs no JSON
// dependency.
#include <cmath>
#include <cstdio>
#include <string>

#include "qgnn/converter/auto_bits.h"

namespace qgnn {
namespace converter {
namespace {

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof(escape), "\\u%04x", c);
      out += escape;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", v);
  return text;
}

const char* boolean(bool b) { return b ? "true" : "false"; }

std::string bits_json(const QuantizerConfig& config) {
  std::string out = "{\"input\": " + std::to_string(config.input_bits) + ", \"layers\": [";
  bool first = true;
  for (const auto& entry : config.layer_bits) {
    out += first ? "" : ", ";
    first = false;
    out += "{\"layer\": " + std::to_string(entry.first) +
           ", \"weights\": " + std::to_string(entry.second.weights) +
           ", \"aggregation\": " + std::to_string(entry.second.aggregation) +
           ", \"output\": " + std::to_string(entry.second.output) + "}";
  }
  return out + "]}";
}

std::string candidate_json(const Candidate& c, bool on_front, bool with_bits, const std::string& indent) {
  std::string out = "{\n";
  const std::string in = indent + "  ";
  out += in + "\"label\": " + quoted(c.label) + ",\n";
  out += in + "\"accuracy\": " + number(c.accuracy) + ",\n";
  out += in + "\"correct\": " + std::to_string(c.correct) + ",\n";
  out += in + "\"total\": " + std::to_string(c.total) + ",\n";
  out += in + "\"model_bytes\": " + std::to_string(c.model_bytes) + ",\n";
  out += in + "\"parameter_bytes\": " + std::to_string(c.parameter_bytes) + ",\n";
  out += in + "\"arena_bytes\": " + std::to_string(c.arena_bytes) + ",\n";
  out += in + "\"total_bytes\": " + std::to_string(c.total_bytes()) + ",\n";
  out += in + "\"within_drop\": " + boolean(c.within_drop) + ",\n";
  out += in + "\"within_budget\": " + boolean(c.within_budget);
  if (with_bits) {
    out += ",\n" + in + "\"pareto\": " + boolean(on_front) + ",\n";
    out += in + "\"bits\": " + bits_json(c.config);
  }
  return out + "\n" + indent + "}";
}

}  // namespace

std::string auto_bits_to_json(const AutoBitsResult& result) {
  std::string out = "{\n";
  out += "  \"mode\": \"" + std::string(result.budget_mode ? "budget" : "max_drop") + "\",\n";
  out += "  \"max_drop_points\": " + number(result.max_drop_points) + ",\n";
  out += "  \"budget_bytes\": " + std::to_string(result.budget_bytes) + ",\n";
  out += "  \"float_reference\": " + candidate_json(result.float_reference, false, false, "  ") + ",\n";
  out += "  \"chosen\": " + std::to_string(result.chosen) + ",\n";
  out += "  \"pareto\": [";
  for (size_t i = 0; i < result.pareto.size(); ++i) out += (i ? ", " : "") + std::to_string(result.pareto[i]);
  out += "],\n";
  out += "  \"explored\": [";
  for (size_t i = 0; i < result.explored.size(); ++i) {
    bool on_front = false;
    for (const size_t p : result.pareto) on_front = on_front || p == i;
    out += (i ? ",\n    " : "\n    ") + candidate_json(result.explored[i], on_front, true, "    ");
  }
  out += result.explored.empty() ? "]\n" : "\n  ]\n";
  return out + "}\n";
}

}  // namespace converter
}  // namespace qgnn
