// qgnn_model_create_with_ops / delete / get_info / class_name: verify the buffer, resolve the layers with
// their ops (Init), declare the intermediate tensors and their lifetimes (Prepare). The only heap allocations
// of a model happen here. qgnn_model_create (every op) is in ops/default_ops.cc.
#include <new>

#include "error_reporter.h"
#include "graph_stage.h"
#include "limits.h"
#include "model.h"
#include "model_verifier.h"
#include "ops/op.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/qgnn.h"
#include "qgnn/schema/qgnn_generated.h"

namespace qgnn {
namespace runtime {
namespace {

template <typename T>
T* NewArray(uint32_t count) {
  return new (std::nothrow) T[count > 0 ? count : 1];
}

// Whether every layer reading the model input reads it through a Dense only (as its input 0), so the input
// can be streamed into those Dense ops instead of quantized into a whole copy first.
bool InputStreamable(const qgnn_model& m) {
  bool read = false;
  for (uint32_t i = 0; i < m.num_layers; ++i) {
    const Layer& layer = m.layers[i];
    for (uint32_t k = 0; k < layer.num_inputs; ++k) {
      if (layer.inputs[k] != kModelInput) continue;
      if (k != 0 || layer.input_dense == nullptr) return false;
      read = true;
    }
  }
  return read;
}

// A float model whose input only plain Dense ops read (Linear, transform-first GCNConv or SAGEConv and its
// root; no BatchNorm or extra term): sparse_dense_f32 computes exactly those Dense ops from non-zeros.
bool FloatInputSparse(const qgnn_model& m) {
#if defined(QGNN_NO_SPARSE_FEATURES) || defined(QGNN_NO_FLOAT_MODELS)
  (void)m;
  return false;
#else
  if (m.quantized || !InputStreamable(m)) return false;
  for (uint32_t i = 0; i < m.num_layers; ++i) {
    const Layer& layer = m.layers[i];
    if (layer.num_inputs == 0 || layer.inputs[0] != kModelInput) continue;
    for (const DenseParams* dense : {layer.input_dense, layer.input_root}) {
      if (dense == nullptr) continue;
      if (dense->extra != nullptr || dense->bn_mean != nullptr || dense->weight_f == nullptr) return false;
    }
  }
  return true;
#endif
}

// Declares every planned tensor: the quantized input (unless the caller's int8 features are used in place,
// or streamed: then only the scratch of its chunks), each layer's intermediates and output (its op's
// Prepare), the graph tensors the ops asked for, and the int8 logits when the last layer outputs int4.
void DeclareTensors(qgnn_model* m, PlanBuilder& plan) {
  const bool in_place_input = !m->quantized || (m->input_int8 && m->input_q.bits == 8);
  const uint32_t input_row = ActivationRowBytes(true, static_cast<int32_t>(m->input_dim), m->input_q.bits);
  m->input_scratch = kNoTensor;
  m->float_input_sparse = FloatInputSparse(*m);
  if (in_place_input) {
    m->input_tensor = kExternalTensor;
    if (m->float_input_sparse) {
      // The probe's gather of one block (ops read kExternalTensor, which keeps it alive; planner.h).
      const size_t slot = StreamSlotBytes(kProbeRowsF32, static_cast<int32_t>(m->input_dim), 0, true);
      m->input_scratch = plan.Add(RowKind::kOne, static_cast<uint32_t>(slot));
      plan.SetStreamedInputScratch(m->input_scratch);
    }
  } else if (InputStreamable(*m)) {
    m->input_tensor = kStreamedInput;
    const size_t slot = StreamSlotBytes(kStreamRows, static_cast<int32_t>(m->input_dim), input_row,
                                        ProbesQuantizedInput(m->input_int8));
    m->input_scratch = plan.Add(RowKind::kOne, static_cast<uint32_t>(slot * kStreamSlots));
    plan.SetStreamedInputScratch(m->input_scratch);
  } else {
    m->input_tensor = plan.Add(RowKind::kNodes, input_row);
  }
  for (uint32_t i = 0; i < m->num_layers; ++i) {
    Layer& layer = m->layers[i];
    // Producers come earlier (verified), so their outputs are declared; the consuming op's Use in Prepare
    // extends each one's lifetime to here.
    for (uint32_t k = 0; k < layer.num_inputs; ++k) {
      const int32_t producer = layer.inputs[k];
      layer.t_inputs[k] = producer == kModelInput ? m->input_tensor : m->layers[producer].t_out;
    }
    layer.t_in = layer.t_inputs[0];
    layer.op->prepare(plan, m->quantized, &layer);
  }
  const int32_t tensor = m->num_layers > 0 ? m->layers[m->num_layers - 1].t_out : m->input_tensor;
  m->output_tensor = tensor;
  m->output_rows = m->num_layers > 0 ? m->layers[m->num_layers - 1].out_rows : RowKind::kNodes;
  m->logits_tensor = kNoTensor;
  if (m->quantized && m->output_q.bits == 4) {
    plan.NextOp();
    plan.Use(tensor);
    m->logits_tensor = plan.Add(m->output_rows, m->num_classes);
  }
  plan.Finish();
  m->num_graph_tensors = plan.num_graph_tensors();
  for (uint32_t i = 0; i < plan.num_graph_tensors(); ++i) {
    m->graph_defs[i] = static_cast<const GraphTensorDef*>(plan.graph_tensor_key(i));
    m->graph_tensors[i] = plan.graph_tensor_id(i);
  }
}

// The persistent part of the arena: room for each quantized Dense's packed weights, 16-byte aligned each.
qgnn_status PlanPackedWeights(qgnn_model* m, ErrorReporter& reporter) {
  m->packed_offsets = NewArray<size_t>(m->num_denses);
  if (m->packed_offsets == nullptr) return reporter.Report(QGNN_OUT_OF_MEMORY, "out of memory for the plan");
  size_t total = 0;
  for (uint32_t i = 0; i < m->num_denses; ++i) {
    const DenseParams& dense = *m->denses[i];
    m->packed_offsets[i] = total;
    if (!m->quantized) continue;
    // Each term is at most a few times a weight matrix that fits the model buffer (< 2 GiB), and there are
    // at most kMaxDenseOps of them, so the sum cannot overflow a 64-bit size; a 32-bit one is checked.
    const uint64_t bytes =
        qgnn::kernels::dense_packed_bytes_max(dense.in_features, dense.out_features, dense.weights.bits);
    const uint64_t end = total + ((bytes + 15) & ~uint64_t{15});
    if (end > static_cast<uint64_t>(~static_cast<size_t>(0) / 2)) {
      return reporter.Report(QGNN_LIMIT_EXCEEDED, "the packed weights do not fit in memory");
    }
    total = static_cast<size_t>(end);
  }
  m->packed_bytes = total;
  return QGNN_OK;
}

// After the dense packed weights: the weights of the Dense ops reading a streamed input, packed for sparse
// features (offsets relative to the start of this region), when some ISA of this build packs them.
qgnn_status PlanSparsePackedWeights(qgnn_model* m, ErrorReporter& reporter) {
  m->sparse_packed_offsets = NewArray<size_t>(m->num_denses);
  if (m->sparse_packed_offsets == nullptr)
    return reporter.Report(QGNN_OUT_OF_MEMORY, "out of memory for the plan");
  for (uint32_t i = 0; i < m->num_denses; ++i) m->sparse_packed_offsets[i] = ~static_cast<size_t>(0);
  size_t total = 0;
#if !defined(QGNN_NO_FLOAT_MODELS)
  // (Compiled out of integer-only builds, so their images link no float kernel: scripts/ci_cortex_m.sh.)
  if (m->float_input_sparse) {
    for (uint32_t l = 0; l < m->num_layers; ++l) {
      if (m->layers[l].inputs[0] != kModelInput) continue;
      for (const DenseParams* dense : {m->layers[l].input_dense, m->layers[l].input_root}) {
        if (dense == nullptr) continue;
        // Bounded like the float weights themselves (in the model buffer): W^T plus a header and padding.
        const uint64_t bytes =
            qgnn::kernels::sparse_dense_f32_packed_bytes(dense->in_features, dense->out_features);
        const uint64_t end = total + ((bytes + 15) & ~uint64_t{15});
        if (end > static_cast<uint64_t>(~static_cast<size_t>(0) / 4)) {
          return reporter.Report(QGNN_LIMIT_EXCEEDED, "the packed weights do not fit in memory");
        }
        m->sparse_packed_offsets[dense->id] = total;
        total = static_cast<size_t>(end);
      }
    }
  }
#endif
  if (m->input_tensor == kStreamedInput && !m->input_int8) {
    for (uint32_t l = 0; l < m->num_layers; ++l) {
      const DenseParams* dense = m->layers[l].input_dense;
      if (dense == nullptr || m->layers[l].inputs[0] != kModelInput) continue;
      const uint64_t bytes = qgnn::kernels::sparse_dense_packed_bytes_max(
          dense->in_features, dense->out_features, dense->weights.bits);
      const uint64_t end = total + ((bytes + 15) & ~uint64_t{15});
      if (end > static_cast<uint64_t>(~static_cast<size_t>(0) / 4)) {
        return reporter.Report(QGNN_LIMIT_EXCEEDED, "the packed weights do not fit in memory");
      }
      m->sparse_packed_offsets[dense->id] = total;
      total = static_cast<size_t>(end);
    }
  }
  m->sparse_packed_bytes = total;
  return QGNN_OK;
}

qgnn_status PrepareModel(qgnn_model* m, ErrorReporter& reporter) {
  qgnn_status st = PlanPackedWeights(m, reporter);
  if (st != QGNN_OK) return st;
  PlanBuilder counter(nullptr, 0);
  DeclareTensors(m, counter);
  if (counter.overflowed()) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED, "the model needs more than %" PRIu32 " graph tensors",
                           kMaxGraphTensors);
  }
  if (counter.num_tensors() > kMaxPlanTensors) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED,
                           "the model needs %" PRIu32 " activation tensors (limit %" PRIu32 ")",
                           counter.num_tensors(), kMaxPlanTensors);
  }
  m->tensors = NewArray<PlannedTensor>(counter.num_tensors());
  if (m->tensors == nullptr) return reporter.Report(QGNN_OUT_OF_MEMORY, "out of memory for the memory plan");
  PlanBuilder plan(m->tensors, counter.num_tensors());
  DeclareTensors(m, plan);
  m->num_tensors = plan.num_tensors();
  m->num_ops = plan.num_ops();
  return PlanSparsePackedWeights(m, reporter);
}

}  // namespace
}  // namespace runtime
}  // namespace qgnn

using qgnn::runtime::ErrorReporter;

extern "C" qgnn_status qgnn_model_create_with_ops(const void* data, size_t size,
                                                  const qgnn_op_resolver* resolver, qgnn_model** model,
                                                  qgnn_error* error) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  ErrorReporter reporter(error);
  if (model == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "model (output) is NULL");
  *model = nullptr;
  if (resolver == nullptr || (resolver->ops == nullptr && resolver->num_ops > 0)) {
    return reporter.Report(QGNN_INVALID_ARGUMENT, "the op resolver is NULL");
  }
  const qgnn::fb::Model* root = nullptr;
  qgnn_status st = VerifyEnvelope(data, size, reporter, &root);
  if (st != QGNN_OK) return st;
  ModelCounts counts;
  st = CountModel(*root, *resolver, reporter, &counts);
  if (st != QGNN_OK) return st;

  qgnn_model* m = new (std::nothrow) qgnn_model;
  if (m == nullptr) return reporter.Report(QGNN_OUT_OF_MEMORY, "out of memory for the model handle");
  m->fb = root;
  m->layers = NewArray<Layer>(counts.layers);
  m->denses = NewArray<const DenseParams*>(counts.denses);
  // 16-byte aligned, zeroed: each op lays out its own data in it.
  m->op_data = new (std::nothrow) qgnn::runtime::OpDataBlock[(counts.op_data_bytes + 15) / 16 + 1]();
  if (m->layers == nullptr || m->denses == nullptr || m->op_data == nullptr) {
    delete m;
    return reporter.Report(QGNN_OUT_OF_MEMORY, "out of memory for the layer tables");
  }
  m->num_layers = counts.layers;
  m->num_denses = counts.denses;
  st = VerifyAndResolve(*root, *resolver, reporter, m);
  if (st == QGNN_OK) st = PrepareModel(m, reporter);
  if (st != QGNN_OK) {
    delete m;
    return st;
  }
  *model = m;
  return reporter.Ok();
}

qgnn_model::~qgnn_model() {
  delete[] layers;
  delete[] denses;
  delete[] packed_offsets;
  delete[] sparse_packed_offsets;
  delete[] static_cast<qgnn::runtime::OpDataBlock*>(op_data);
  delete[] tensors;
}

extern "C" void qgnn_model_delete(qgnn_model* model) { delete model; }

extern "C" int qgnn_model_accepts_sparse_features(const qgnn_model* model) {
#if defined(QGNN_NO_SPARSE_FEATURES)
  (void)model;
  return 0;
#else
  if (model == nullptr) return 0;
  if (!model->quantized) return model->float_input_sparse ? 1 : 0;
  return !model->input_int8 && model->input_tensor == qgnn::runtime::kStreamedInput ? 1 : 0;
#endif
}

extern "C" const float* qgnn_model_input_column_scales(const qgnn_model* model) {
  return model != nullptr ? model->input_column_scales : nullptr;
}

extern "C" qgnn_status qgnn_model_get_info(const qgnn_model* model, qgnn_model_info* info) {
  if (model == nullptr || info == nullptr) return QGNN_INVALID_ARGUMENT;
  info->name = model->name;
  info->task = model->task;
  info->num_layers = model->num_layers;
  info->input_dim = model->input_dim;
  info->num_classes = model->num_classes;
  info->quantized = model->quantized ? 1 : 0;
  info->input_is_int8 = model->input_int8 ? 1 : 0;
  info->input_scale = model->quantized ? model->input_q.scale : 1.0f;
  info->input_zero_point = model->quantized ? model->input_q.zero_point : 0;
  info->output_scale = model->quantized ? model->output_q.scale : 1.0f;
  info->output_zero_point = model->quantized ? model->output_q.zero_point : 0;
  info->parameter_bytes = model->parameter_bytes;
  info->max_nodes = model->limits.max_nodes;
  info->max_edges = model->limits.max_edges;
  info->max_degree = model->limits.max_degree;
  info->max_graphs = model->limits.max_graphs;
  return QGNN_OK;
}

extern "C" const char* qgnn_model_class_name(const qgnn_model* model, uint32_t index) {
  if (model == nullptr) return "";
  const auto* names = model->fb->class_names();
  if (names == nullptr || index >= names->size()) return "";
  return names->Get(index)->c_str();
}
