// The GAT workload of the end-to-end benchmarks (issue 16): the paper's Cora model with random weights on
// Cora's real graph. Shared by qgnn-bench-invoke (BM_InvokeGatCora) and qgnn-bench-gat-model, which writes the
// float model for scripts/bench-report (qgnn-convert quantizes it there, qgnn-bench and the PyTorch baseline
// run it), so both measure the same network.
#ifndef QGNN_BENCH_INVOKE_GAT_WORKLOAD_H_
#define QGNN_BENCH_INVOKE_GAT_WORKLOAD_H_

#include <cstdint>
#include <string>

#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"
#include "workloads.h"

namespace qgnn {
namespace bench {

/// GATConv(features -> 8 heads x 8, concatenated, ReLU) -> GATConv(64 -> 1 head x classes), node
/// classification (Velickovic et al.'s Cora model; ReLU where the paper has ELU: ReLU is the runtime's one
/// activation). Weights ~ U(+-1/sqrt(in)) (PyTorch's Linear init), attention vectors ~ U(+-1/sqrt(head_dim))
/// (logits of order one, so the softmax is neither flat nor one-hot), biases ~ U(+-0.1); fixed seed.
converter::ModelDesc gat_cora_float_model(int32_t features, int32_t classes);

/// A node-classification data set's whole graph as one batch, features in the form the file stores them.
struct NodeGraph {
  converter::GraphBatch batch;
  int32_t classes = 0;
};

/// The .qgd that QGNN_BENCH_QGD names "cora" ("cora=PATH[,NAME=PATH...]", as for qgnn-bench-kernels), read
/// once; an error naming the variable when it is unset, or the file's error.
const converter::Result<NodeGraph>& cora_graph_from_env();

/// `path` read as a NodeGraph; an error for a graph-classification set.
converter::Result<NodeGraph> read_node_graph(const std::string& path);

/// gat_cora_float_model on that graph's sizes, and its int8 / int4 variants calibrated on the graph itself.
/// The int4 variants keep the attention logits at 8 bits (the only width the exp table serves).
const ModelSet& gat_cora_models();

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_INVOKE_GAT_WORKLOAD_H_
