#include "runtime_runner.h"

#include "qgnn/converter/runtime_graph.h"
#include "qgnn/session.hpp"

namespace qgnn {
namespace converter {
namespace testing {

std::string run_on_runtime(const std::vector<uint8_t>& model_bytes, const GraphBatch& batch,
                           RuntimeOutput* out) {
  auto loaded = session::Session::load(model_bytes);
  if (!loaded.ok()) return loaded.error;
  session::Session& s = loaded.value;
  const qgnn_graph graph = runtime_graph(batch);
  const auto planned = s.plan(session::limits_of(graph));
  if (!planned.ok()) return planned.error;
  const auto ran = s.run(graph);
  if (!ran.ok()) return ran.error;
  const auto outputs = s.outputs();
  if (!outputs.ok()) return outputs.error;
  out->rows = outputs.value.rows;
  out->cols = outputs.value.cols;
  out->values = outputs.value.logits;
  out->argmax = outputs.value.argmax;
  return "";
}

}  // namespace testing
}  // namespace converter
}  // namespace qgnn
