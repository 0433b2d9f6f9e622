// Bit SPEC parsing and formatting (grammar in bit_spec.h).
#include "qgnn/converter/bit_spec.h"

#include <array>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "qgnn/converter/layer_kind.h"

namespace qgnn {
namespace converter {
namespace {

enum Component { kWeights = 0, kAggregation = 1, kOutput = 2, kAttention = 3, kAllComponents = 4 };
constexpr const char* kComponentNames[] = {"w", "agg", "out", "att"};
constexpr const char* kComponentWords[] = {"weights", "aggregation", "output", "attention logits"};

// A GATConv's messages are its `agg` (its one aggregated intermediate), its attention logits `att`.
bool has_component(const LayerDesc& l, Component c) {
  const LayerKindTraits& kind = layer_traits(l.kind);
  switch (c) {
    case kWeights:
      return kind.weights;
    case kAggregation:
      return kind.aggregation || kind.attention;
    case kAttention:
      return kind.attention;
    default:
      return true;
  }
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) return parts;
    start = pos + 1;
  }
}

bool parse_bits(const std::string& text, int* bits) {
  if (text == "4" || text == "8") {
    *bits = text[0] - '0';
    return true;
  }
  return false;
}

bool parse_component(const std::string& text, Component* c) {
  if (text == "w" || text == "weights")
    *c = kWeights;
  else if (text == "agg" || text == "aggregation")
    *c = kAggregation;
  else if (text == "out" || text == "output")
    *c = kOutput;
  else if (text == "att" || text == "attention")
    *c = kAttention;
  else
    return false;
  return true;
}

// Unique, non-empty names address layers by name; every layer can be addressed as #INDEX.
std::string display_name(const ModelDesc& model, size_t index) {
  const std::string& name = model.layers[index].name;
  size_t same = 0;
  for (const LayerDesc& l : model.layers) same += l.name == name ? 1 : 0;
  const bool usable =
      !name.empty() && same == 1 && name.find_first_of(",=.*# ") == std::string::npos && name != "input";
  return usable ? name : "#" + std::to_string(index);
}

std::string known_layers(const ModelDesc& model) {
  std::string names;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    if (!names.empty()) names += ", ";
    names += display_name(model, i);
  }
  return names.empty() ? "(none)" : names;
}

Result<size_t> find_layer(const ModelDesc& model, const std::string& text) {
  using R = Result<size_t>;
  if (!text.empty() && text[0] == '#') {
    const std::string digits = text.substr(1);
    if (digits.empty() || digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string::npos)
      return R::failure("bad layer index '" + text + "'");
    const size_t index = std::stoul(digits);
    if (index >= model.layers.size()) {
      return R::failure("layer index " + text + " is out of range (the model has " +
                        std::to_string(model.layers.size()) + " layers)");
    }
    R r;
    r.value = index;
    return r;
  }
  for (size_t i = 0; i < model.layers.size(); ++i) {
    if (model.layers[i].name == text) {
      if (display_name(model, i) != text)
        return R::failure("layer name '" + text + "' is ambiguous; use #" + std::to_string(i));
      R r;
      r.value = i;
      return r;
    }
  }
  return R::failure("unknown layer '" + text + "' (layers: " + known_layers(model) + ")");
}

int& component_ref(ComponentBits& b, Component c) {
  return c == kWeights       ? b.weights
         : c == kAggregation ? b.aggregation
         : c == kAttention   ? b.attention
                             : b.output;
}

// The components "*" (and a bare width) leave at 8 bits, besides the input (docs/converter.md, "Bits"): every
// aggregation (a transform-first layer's messages included) — a sum or mean of 4-bit values is where 4 bits
// lose the most — GATConv's attention logits, whose 16 levels flatten the softmax (the cost is measured in
// docs/converter.md), and the weights of every layer that reads the model input, which sees the raw
// features (their per-column scales fold into those weights).
bool star_keeps_8_bits(const ModelDesc& model, size_t index, Component c) {
  if (c == kAggregation || c == kAttention) return true;
  if (c == kWeights) return input_of(model, index) == kModelInput;
  return false;
}

}  // namespace

ComponentBits layer_bits(const QuantizerConfig& config, size_t index) {
  const auto it = config.layer_bits.find(static_cast<int>(index));
  return it != config.layer_bits.end() ? it->second : config.default_bits;
}

Result<QuantizerConfig> parse_bit_spec(const std::string& spec, const ModelDesc& model) {
  using R = Result<QuantizerConfig>;
  const std::string text = trim(spec);
  if (text.empty()) return R::failure("empty bit spec");
  const size_t n = model.layers.size();
  // Priority of the selector that set each value: 0 none, 1 "*", 2 "*.COMP", 3 LAYER, 4 LAYER.COMP.
  struct Slot {
    int bits = 8;
    int priority = 0;
  };
  std::vector<std::array<Slot, kAllComponents>> slots(n);
  Slot input;
  std::set<std::string> seen;
  bool explicit_logits = false;
  auto assign = [](Slot* s, int bits, int priority) {
    if (priority >= s->priority) *s = Slot{bits, priority};
  };

  int bare_bits = 0;
  const std::string items = parse_bits(text, &bare_bits) ? "*=" + text : text;  // a bare BITS means "*=BITS"
  for (const std::string& raw_item : split(items, ',')) {
    const std::string item = trim(raw_item);
    const size_t eq = item.find('=');
    if (item.empty() || eq == std::string::npos)
      return R::failure("bad item '" + item + "' in bit spec: expected SELECTOR=BITS");
    const std::string selector = trim(item.substr(0, eq));
    const std::string bits_text = trim(item.substr(eq + 1));
    int bits = 0;
    if (!parse_bits(bits_text, &bits))
      return R::failure("bad bits '" + bits_text + "' for '" + selector + "': expected 4 or 8");
    if (!seen.insert(selector).second) return R::failure("'" + selector + "' appears twice in the bit spec");
    if (selector == "*") {
      for (size_t i = 0; i < n; ++i) {
        for (int c = 0; c < kAllComponents; ++c) {
          if (!star_keeps_8_bits(model, i, static_cast<Component>(c))) assign(&slots[i][c], bits, 1);
        }
      }
      continue;  // the input, too, stays 8 bits unless named
    }
    if (selector == "input") {
      assign(&input, bits, 4);
      continue;
    }
    const size_t dot = selector.rfind('.');
    const std::string layer_text = dot == std::string::npos ? selector : selector.substr(0, dot);
    Component component = kAllComponents;
    if (dot != std::string::npos && !parse_component(selector.substr(dot + 1), &component)) {
      return R::failure("unknown component '" + selector.substr(dot + 1) + "' in '" + selector +
                        "' (w, agg, att or out)");
    }
    if (layer_text == "*") {
      if (component == kAllComponents) return R::failure("bad selector '" + selector + "'");
      for (auto& layer : slots) assign(&layer[component], bits, 2);
      continue;
    }
    const Result<size_t> index = find_layer(model, layer_text);
    if (!index.ok()) return R::failure(index.error);
    const LayerDesc& layer = model.layers[index.value];
    if (component == kAllComponents) {
      // Like "*", a whole-layer selector leaves the logits at 8 bits; only LAST.out=4 is refused. Unlike
      // "*", it sets the layer's aggregation and attention logits too (naming the layer names them).
      for (int c = 0; c < kAllComponents; ++c) assign(&slots[index.value][c], bits, 3);
      continue;
    }
    if (!has_component(layer, component)) {
      return R::failure("layer '" + layer_text + "' has no " + kComponentWords[component]);
    }
    if (component == kOutput && index.value + 1 == n && bits != 8) explicit_logits = true;
    assign(&slots[index.value][component], bits, 4);
  }
  if (explicit_logits) {
    return R::failure("the output of the last layer ('" + display_name(model, n - 1) +
                      "', the logits) stays 8 bits; give its weights or aggregation 4 bits instead");
  }
  R r;
  r.value.input_bits = input.bits;
  r.value.int8_logits = true;
  for (size_t i = 0; i < n; ++i) {
    ComponentBits b;
    for (int c = 0; c < kAllComponents; ++c) {
      const bool present = has_component(model.layers[i], static_cast<Component>(c));
      component_ref(b, static_cast<Component>(c)) = present ? slots[i][c].bits : 8;
    }
    if (i + 1 == n) b.output = 8;
    r.value.layer_bits[static_cast<int>(i)] = b;
  }
  return r;
}

std::string format_bit_spec(const QuantizerConfig& config, const ModelDesc& model) {
  const size_t n = model.layers.size();
  // The most frequent width among the components that exist becomes "*"; the rest are listed.
  size_t fours = 0, total = 1;
  fours += config.input_bits == 4 ? 1 : 0;
  for (size_t i = 0; i < n; ++i) {
    ComponentBits b = layer_bits(config, i);
    if (i + 1 == n && config.int8_logits) b.output = 8;
    for (int c = 0; c < kAllComponents; ++c) {
      if (!has_component(model.layers[i], static_cast<Component>(c))) continue;
      if (c == kOutput && i + 1 == n) continue;  // the logits are always 8
      ++total;
      fours += component_ref(b, static_cast<Component>(c)) == 4 ? 1 : 0;
    }
  }
  const int star = 2 * fours > total ? 4 : 8;
  std::string spec = "*=" + std::to_string(star);
  // List every component whose bits differ from what "*=star" gives it, so parse(format(c)) == c.
  if (config.input_bits != 8) spec += ",input=" + std::to_string(config.input_bits);
  for (size_t i = 0; i < n; ++i) {
    ComponentBits b = layer_bits(config, i);
    for (int c = 0; c < kAllComponents; ++c) {
      if (!has_component(model.layers[i], static_cast<Component>(c))) continue;
      if (c == kOutput && i + 1 == n) continue;
      const int bits = component_ref(b, static_cast<Component>(c));
      const int implied = star_keeps_8_bits(model, i, static_cast<Component>(c)) ? 8 : star;
      if (bits != implied)
        spec += "," + display_name(model, i) + "." + kComponentNames[c] + "=" + std::to_string(bits);
    }
  }
  return spec;
}

}  // namespace converter
}  // namespace qgnn
