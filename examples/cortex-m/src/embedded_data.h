// What scripts/embed_model.py puts in flash: a .qgnn model and a few graphs of a .qgd data set.
#ifndef QGNN_EXAMPLES_CORTEX_M_EMBEDDED_DATA_H_
#define QGNN_EXAMPLES_CORTEX_M_EMBEDDED_DATA_H_

#include <cstddef>
#include <cstdint>

/// One graph on its own: nodes relabelled from 0, CSR rows list in-neighbours, float features row-major.
struct EmbeddedGraph {
  uint32_t index;  ///< the graph's index in the data set (printed, so host and device lines can be matched)
  uint32_t num_nodes;
  uint32_t num_edges;
  const int32_t* row_ptr;
  const int32_t* col_idx;
  const float* features;
  int32_t label;  ///< the data set's label, -1 when it has none
};

extern const uint8_t qgnn_fw_model[];  // 16-byte aligned: the runtime reads it in place
extern const size_t qgnn_fw_model_size;
/// Largest graph of the whole data set: the firmware plans its arena for these, not for the embedded ones.
extern const uint32_t qgnn_fw_dataset_max_nodes;
extern const uint32_t qgnn_fw_dataset_max_edges;
extern const EmbeddedGraph qgnn_fw_graphs[];
extern const uint32_t qgnn_fw_num_graphs;

#endif  // QGNN_EXAMPLES_CORTEX_M_EMBEDDED_DATA_H_
