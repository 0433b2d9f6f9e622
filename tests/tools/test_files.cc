#include "test_files.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <random>
#include <stdexcept>

#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"
#include "qgnn/converter/quantizer.h"
#include "test_models.h"

namespace qgnn {
namespace tools {
namespace testing {
namespace {

using converter::GraphSetDesc;
using converter::ModelDesc;
namespace ct = converter::testing;

void write(const std::string& path, const std::vector<uint8_t>& bytes) {
  auto written = converter::write_file_atomic(path, bytes);
  if (!written.ok()) throw std::runtime_error(written.error);
}

void write_model(const std::string& path, const ModelDesc& model) {
  auto bytes = converter::serialize_model(model);
  if (!bytes.ok()) throw std::runtime_error("serialize_model(" + path + "): " + bytes.error);
  write(path, bytes.value);
}

void write_data(const std::string& path, const GraphSetDesc& set) {
  auto bytes = converter::serialize_graph_set(set);
  if (!bytes.ok()) throw std::runtime_error("serialize_graph_set(" + path + "): " + bytes.error);
  write(path, bytes.value);
}

// Labels uniformly at random and a 60/20/20 split of `count` units.
void label_and_split(GraphSetDesc* set, uint32_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> label(0, set->num_classes - 1);
  for (uint32_t k = 0; k < count; ++k) {
    set->labels.push_back(label(rng));
    const uint32_t bucket = k % 5;
    (bucket < 3 ? set->train : bucket == 3 ? set->val : set->test).push_back(k);
  }
}

GraphSetDesc to_set(const ct::RandomGraphs& g, const std::string& name, converter::Task task) {
  GraphSetDesc set;
  set.name = name;
  set.task = task;
  set.feature_dim = 5;
  set.num_classes = 3;
  set.class_names = {"a", "b", "c"};
  set.graph_ptr = g.graph_ptr;
  set.row_ptr = g.row_ptr;
  set.col_idx = g.col_idx;
  set.features = g.features;
  set.description = "random graphs written by tools_cli_test";
  return set;
}

ModelDesc node_model(std::mt19937& rng) {
  ModelDesc m;
  m.name = "node-gcn-sage";
  m.task = converter::Task::kNodeClassification;
  m.input_dim = 5;
  m.class_names = {"a", "b", "c"};
  m.layers.push_back(ct::gcn_layer(5, 8, true, rng));
  m.layers.push_back(ct::sage_layer(8, 3, converter::Reduce::kMean, true, false, rng));
  return m;
}

}  // namespace

TestFiles write_test_files() {
  TestFiles f;
  char pattern[] = "/tmp/qgnn-tools-test-XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  f.dir = pattern;
  std::mt19937 rng(1234);

  const ModelDesc graph_f32 = ct::all_kinds_float_model(rng);
  f.graph_layers = graph_f32.layers.size();
  f.graph_f32 = f.dir + "/graph_f32.qgnn";
  f.graph_int8 = f.dir + "/graph_int8.qgnn";
  f.graph_int4 = f.dir + "/graph_int4.qgnn";
  write_model(f.graph_f32, graph_f32);
  write_model(f.graph_int8, ct::random_quantized_copy(graph_f32, 8, rng));
  write_model(f.graph_int4, ct::random_quantized_copy(graph_f32, 4, rng));

  const ModelDesc node_f32 = node_model(rng);
  f.node_f32 = f.dir + "/node_f32.qgnn";
  f.node_int8 = f.dir + "/node_int8.qgnn";
  write_model(f.node_f32, node_f32);
  write_model(f.node_int8, ct::random_quantized_copy(node_f32, 8, rng));

  GraphSetDesc graphs =
      to_set(ct::random_graphs(24, 2, 9, 3, 5, rng), "random-graphs", converter::Task::kGraphClassification);
  label_and_split(&graphs, 24, rng);
  f.graph_test_split = static_cast<uint32_t>(graphs.test.size());
  f.graph_train_split = static_cast<uint32_t>(graphs.train.size());
  f.graph_data = f.dir + "/graphs.qgd";
  write_data(f.graph_data, graphs);

  GraphSetDesc nodes =
      to_set(ct::random_graphs(1, 60, 60, 4, 5, rng), "random-nodes", converter::Task::kNodeClassification);
  label_and_split(&nodes, 60, rng);
  f.node_test_split = static_cast<uint32_t>(nodes.test.size());
  f.node_data = f.dir + "/nodes.qgd";
  write_data(f.node_data, nodes);

  // Written last, with their own generator, so that every file above stays what it was.
  std::mt19937 fold_rng(4321);
  GraphSetDesc folds = graphs;
  folds.name = "random-folds";
  folds.train.clear();
  folds.val.clear();
  folds.test.clear();
  for (uint32_t g = 0; g < 24; ++g) {
    folds.fold.push_back(static_cast<uint8_t>(g % 4));
    (g % 4 == 0 ? folds.test : g % 4 == 1 ? folds.val : folds.train).push_back(g);
  }
  f.folds_data = f.dir + "/folds.qgd";
  write_data(f.folds_data, folds);
  ModelDesc fold1 = ct::random_quantized_copy(graph_f32, 8, fold_rng);
  fold1.description =
      "GIN on random-folds: Trained in float on fold 1 of 4 (test = fold 1, val = fold 2, train = the rest) "
      "of "
      "folds.qgd";
  f.graph_int8_fold1 = f.dir + "/graph_int8_fold1.qgnn";
  write_model(f.graph_int8_fold1, fold1);

  // The GAT, with its own generator too, quantized by the converter as qgnn-convert does.
  std::mt19937 gat_rng(1616);
  ModelDesc gat;
  gat.name = "node-gat";
  gat.task = converter::Task::kNodeClassification;
  gat.input_dim = 5;
  gat.class_names = {"a", "b", "c"};
  gat.layers.push_back(ct::gat_layer(5, 2, 3, /*concat=*/true, /*relu=*/true, gat_rng));
  gat.layers.push_back(ct::gat_layer(6, 2, 3, /*concat=*/false, /*relu=*/false, gat_rng));
  gat.layers.back().name = "gat_out";
  f.gat_f32 = f.dir + "/gat_f32.qgnn";
  f.gat_int8 = f.dir + "/gat_int8.qgnn";
  write_model(f.gat_f32, gat);
  auto calibration = converter::extract_all_graphs(nodes);
  if (!calibration.ok()) throw std::runtime_error("extract_all_graphs: " + calibration.error);
  converter::QuantizerConfig config;
  config.default_bits = converter::ComponentBits{8, 8, 8};
  const auto quantized = converter::quantize_model(gat, {calibration.value}, config);
  if (!quantized.ok()) throw std::runtime_error("quantize_model(gat): " + quantized.error);
  write_model(f.gat_int8, quantized.value);
  return f;
}

std::vector<CorruptFile> write_corrupt_copies(const std::string& source, const std::string& dir,
                                              const std::string& prefix) {
  auto read = converter::read_file(source);
  if (!read.ok()) throw std::runtime_error(read.error);
  const std::vector<uint8_t>& bytes = read.value;
  const size_t size = bytes.size();
  std::vector<CorruptFile> corpus;
  auto add = [&](const std::string& what, const std::vector<uint8_t>& content, bool must_fail) {
    const std::string path = dir + "/" + prefix + "-" + std::to_string(corpus.size()) + ".bin";
    write(path, content);
    corpus.push_back({what, path, must_fail});
  };

  add("empty file", {}, true);
  // The last bytes may be alignment padding of the first object FlatBuffers wrote: cutting one byte can
  // leave a valid file, cutting 16 or more cannot.
  for (size_t keep :
       {size_t{1}, size_t{4}, size_t{7}, size_t{8}, size_t{16}, size / 4, size / 2, size - 16, size - 1}) {
    add("truncated to " + std::to_string(keep) + " of " + std::to_string(size) + " bytes",
        std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(keep)), keep + 16 <= size);
  }
  std::vector<uint8_t> wrong_id = bytes;
  for (size_t k = 4; k < 8 && k < size; ++k) wrong_id[k] = 'X';
  add("wrong file identifier", wrong_id, true);
  std::vector<uint8_t> root_out = bytes;
  root_out[0] = 0xF0;
  root_out[1] = 0xFF;
  root_out[2] = 0xFF;
  root_out[3] = 0x7F;
  add("root offset past the end", root_out, true);
  std::mt19937 rng(99);
  std::vector<uint8_t> noise(1024);
  for (uint8_t& b : noise) b = static_cast<uint8_t>(rng());
  add("1 KiB of random bytes", noise, true);
  // Random bytes behind a valid-looking identifier.
  for (size_t k = 4; k < 8; ++k) noise[k] = bytes[k];
  add("random bytes with the right identifier", noise, true);
  // Bit flips spread over the whole file (some may leave a valid file: a weight bit, say).
  for (size_t k = 0; k < 48; ++k) {
    std::vector<uint8_t> flipped = bytes;
    const size_t at = (k * 7919 + 13) % size;
    flipped[at] ^= static_cast<uint8_t>(1u << (k % 8));
    add("bit " + std::to_string(k % 8) + " of byte " + std::to_string(at) + " flipped", flipped, false);
  }
  corpus.push_back({"missing file", dir + "/" + prefix + "-does-not-exist.bin", true});
  const std::string subdir = dir + "/" + prefix + "-a-directory";
  mkdir(subdir.c_str(), 0755);
  corpus.push_back({"a directory", subdir, true});
  return corpus;
}

}  // namespace testing
}  // namespace tools
}  // namespace qgnn
