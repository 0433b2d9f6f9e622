#include "inspect/report.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace qgnn {
namespace tools {
namespace {

const char* task_name(qgnn_task task) {
  return task == QGNN_TASK_NODE_CLASSIFICATION ? "node_classification" : "graph_classification";
}

nlohmann::ordered_json bits_or_null(int bits) {
  return bits == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(bits);
}

// "8", "8/4" (one entry per Dense), "-" when none.
std::string weight_bits_text(const LayerSummary& l) {
  if (l.dense.empty()) return "-";
  std::string text;
  for (const DenseSummary& d : l.dense) text += (text.empty() ? "" : "/") + std::to_string(d.weight_bits);
  return text;
}

std::string bits_text(int bits) { return bits == 0 ? "-" : std::to_string(bits); }

// printf's %g of `value`.
std::string format_g(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

}  // namespace

nlohmann::ordered_json report_json(const InspectReport& r) {
  const ModelSummary& m = r.model;
  const qgnn_model_info& info = m.info;
  nlohmann::ordered_json j;
  j["file"] = r.path;
  j["file_bytes"] = r.file_bytes;
  j["name"] = info.name != nullptr ? info.name : "";
  j["version"] = m.version;
  j["producer"] = m.producer;
  j["description"] = m.description;
  j["task"] = task_name(info.task);
  j["num_classes"] = info.num_classes;
  j["class_names"] = m.class_names;
  j["quantized"] = info.quantized != 0;
  nlohmann::ordered_json input = {
      {"feature_dim", info.input_dim}, {"type", m.input_type}, {"bits", m.input_bits}};
  if (info.quantized) {
    input["scale"] = info.input_scale;
    input["zero_point"] = info.input_zero_point;
    if (!m.input_column_scales.empty()) input["column_scales"] = m.input_column_scales;
    j["output"] = {{"scale", info.output_scale}, {"zero_point", info.output_zero_point}};
  }
  j["input"] = input;
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const LayerSummary& l = m.layers[i];
    nlohmann::ordered_json lj = {{"index", i},
                                 {"name", l.name},
                                 {"kind", l.kind},
                                 {"inputs", l.inputs},
                                 {"in_features", l.in_features},
                                 {"out_features", l.out_features},
                                 {"activation", l.activation},
                                 {"parameter_bytes", l.parameter_bytes}};
    if (!l.reduce.empty()) lj["reduce"] = l.reduce;
    if (l.eps) lj["eps"] = *l.eps;
    if (!l.first.empty()) lj["first"] = l.first;
    nlohmann::ordered_json dense = nlohmann::ordered_json::array();
    nlohmann::ordered_json weight_bits = nlohmann::ordered_json::array();
    for (const DenseSummary& d : l.dense) {
      dense.push_back({{"in_features", d.in_features},
                       {"out_features", d.out_features},
                       {"weight_type", d.weight_type},
                       {"bias_type", d.bias_type.empty() ? nlohmann::ordered_json(nullptr)
                                                         : nlohmann::ordered_json(d.bias_type)},
                       {"activation", d.activation},
                       {"parameter_bytes", d.parameter_bytes}});
      weight_bits.push_back(d.weight_bits);
    }
    lj["dense"] = dense;
    lj["bits"] = {{"weights", weight_bits},
                  {"aggregation", bits_or_null(l.aggregation_bits)},
                  {"message", bits_or_null(l.message_bits)},
                  {"output", bits_or_null(l.output_bits)}};
    if (l.hidden_bits) lj["bits"]["hidden"] = *l.hidden_bits;
    if (l.attention) {
      const AttentionSummary& a = *l.attention;
      nlohmann::ordered_json att = {{"heads", a.heads},           {"head_dim", a.head_dim},
                                    {"heads_combined", a.concat ? "concat" : "mean"},
                                    {"att_type", a.att_type},     {"logit_bits", a.logit_bits},
                                    {"alpha_bits", a.alpha_bits}};
      if (info.quantized) {
        att["att_scale"] = a.att_scale;
        att["logit_scale"] = a.logit_scale;
        att["logit_zero_point"] = a.logit_zero_point;
        att["exp_table_entries"] = a.exp_table_entries;
        att["exp_table_step"] = a.exp_table_step;
      }
      lj["attention"] = att;
      lj["bits"]["attention"] = a.logit_bits;
    }
    layers.push_back(lj);
  }
  j["layers"] = layers;
  j["parameter_bytes"] = info.parameter_bytes;
  j["limits"] = {{"max_nodes", info.max_nodes},
                 {"max_edges", info.max_edges},
                 {"max_degree", info.max_degree},
                 {"max_graphs", info.max_graphs}};
  j["arena"] = {{"nodes", r.arena_limits.max_nodes},
                {"edges", r.arena_limits.max_edges},
                {"graphs", r.arena_limits.max_graphs},
                {"isa", r.arena_isa.empty() ? "any" : r.arena_isa},
                {"bytes", r.arena_bytes}};
  return j;
}

void print_report_text(const InspectReport& r, std::FILE* out) {
  const ModelSummary& m = r.model;
  const qgnn_model_info& info = m.info;
  std::fprintf(out, "model       %s  (%s, %zu bytes)\n",
               info.name != nullptr && info.name[0] ? info.name : "(unnamed)", r.path.c_str(), r.file_bytes);
  std::fprintf(out, "format      version %u, producer \"%s\"\n", m.version, m.producer.c_str());
  if (!m.description.empty()) std::fprintf(out, "description %s\n", m.description.c_str());
  std::fprintf(out, "task        %s, %u classes", task_name(info.task), info.num_classes);
  bool named = false;
  for (const std::string& c : m.class_names) named = named || !c.empty();
  if (named) {
    std::fprintf(out, ":");
    for (size_t c = 0; c < m.class_names.size(); ++c)
      std::fprintf(out, "%s %s", c ? "," : "", m.class_names[c].c_str());
  }
  std::fprintf(out, "\n");
  std::fprintf(out, "execution   %s\n", info.quantized ? "integer (quantized)" : "float32");
  if (info.quantized) {
    std::fprintf(out, "input       %u features, %s, %d bits, scale %g, zero point %d\n", info.input_dim,
                 m.input_type.c_str(), m.input_bits, info.input_scale, info.input_zero_point);
    if (!m.input_column_scales.empty()) {
      const auto [lo, hi] = std::minmax_element(m.input_column_scales.begin(), m.input_column_scales.end());
      std::fprintf(out, "            per-column scales %g ... %g (folded into the first layer's weights)\n",
                   *lo, *hi);
    }
    std::fprintf(out, "output      %u logits, scale %g, zero point %d\n", info.num_classes, info.output_scale,
                 info.output_zero_point);
  } else {
    std::fprintf(out, "input       %u features, %s\n", info.input_dim, m.input_type.c_str());
  }
  std::fprintf(out, "layers      %zu\n", m.layers.size());
  std::fprintf(out, "  %-3s %-14s %-10s %-13s %-5s %-7s %-10s %-10s %-5s %-5s %s\n", "#", "name", "kind",
               "in -> out", "act", "reduce", "first", "weights", "agg", "out", "param bytes");
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const LayerSummary& l = m.layers[i];
    // A layer listing its inputs shows them: "#0:8 -> 9" reads layer 0, "in:5 -> 6" the model input.
    std::string from;
    for (int32_t p : l.inputs)
      from += (from.empty() ? "" : ",") + (p < 0 ? std::string("in") : "#" + std::to_string(p));
    const std::string dims = (from.empty() ? "" : from + ":") + std::to_string(l.in_features) + " -> " +
                             std::to_string(l.out_features);
    std::string types;
    for (const DenseSummary& d : l.dense) types += (types.empty() ? "" : ",") + d.weight_type;
    // A transform-first GCNConv has no aggregation component: its messages are shown as "m<bits>"; a
    // transform-first SAGEConv has both: "m<bits>/<bits>".
    std::string agg = l.message_bits != 0 ? "m" + bits_text(l.message_bits) : bits_text(l.aggregation_bits);
    if (l.message_bits != 0 && l.aggregation_bits != 0) agg += "/" + bits_text(l.aggregation_bits);
    std::fprintf(out, "  %-3zu %-14s %-10s %-13s %-5s %-7s %-10s %-10s %-5s %-5s %zu\n", i,
                 l.name.empty() ? "-" : l.name.c_str(), l.kind.c_str(), dims.c_str(),
                 l.activation == "RELU" ? "relu" : "-", l.reduce.empty() ? "-" : l.reduce.c_str(),
                 l.first.empty() ? "-" : l.first.c_str(), weight_bits_text(l).c_str(), agg.c_str(),
                 bits_text(l.output_bits).c_str(), l.parameter_bytes);
    if (l.hidden_bits) {
      std::string mlp;
      for (size_t k = 0; k < l.dense.size(); ++k) {
        const DenseSummary& d = l.dense[k];
        mlp += (k ? " | " : "") + d.weight_type + " " + std::to_string(d.in_features) + "->" +
               std::to_string(d.out_features) +
               (d.activation == "RELU" && k + 1 < l.dense.size() ? " relu" : "");
        if (k < l.hidden_bits->size()) mlp += " (" + std::to_string((*l.hidden_bits)[k]) + "-bit)";
      }
      if (l.eps) mlp += ", eps " + format_g(*l.eps);
      std::fprintf(out, "      mlp: %s\n", mlp.c_str());
    }
    if (l.attention) {
      const AttentionSummary& a = *l.attention;
      std::fprintf(out, "      attention: %u head%s x %u, %s; a_src/a_dst %s", a.heads, a.heads == 1 ? "" : "s",
                   a.head_dim, a.concat ? "concat" : "mean", a.att_type.c_str());
      if (info.quantized) {
        std::fprintf(out,
                     " (scale %g); logits %d-bit, scale %g, zero point %d; exp table %u x Q15, step %.6g; "
                     "alpha %d-bit unsigned\n",
                     a.att_scale, a.logit_bits, a.logit_scale, a.logit_zero_point, a.exp_table_entries,
                     a.exp_table_step, a.alpha_bits);
      } else {
        std::fprintf(out, "; logits and alpha float\n");
      }
    }
  }
  std::fprintf(out,
               "  (first: what a message-passing layer runs first, its aggregation or its Dense; bits per "
               "component: weights per Dense / aggregation, or m = messages of a transform-first layer or a "
               "GATConv (then / its aggregation for SAGEConv) / output; 32 = float)\n");
  std::fprintf(out, "parameters  %zu bytes\n", info.parameter_bytes);
  std::fprintf(out, "limits      nodes %u, edges %u, degree %u, graphs %u\n", info.max_nodes, info.max_edges,
               info.max_degree, info.max_graphs);
  std::fprintf(out, "arena       %zu bytes for %u nodes, %u edges, %u graph(s), isa %s\n", r.arena_bytes,
               r.arena_limits.max_nodes, r.arena_limits.max_edges, r.arena_limits.max_graphs,
               r.arena_isa.empty() ? "any" : r.arena_isa.c_str());
}

}  // namespace tools
}  // namespace qgnn
