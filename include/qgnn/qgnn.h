/// @file qgnn.h
/// The qgnn C API: load a .qgnn model from a byte buffer, plan a static arena, run integer (or float)
/// graph neural network inference on CSR graphs.
///
/// Lifecycle (XNNPACK style):  qgnn_model_create -> qgnn_arena_size -> qgnn_interpreter_create ->
/// { qgnn_interpreter_setup -> qgnn_interpreter_invoke -> qgnn_interpreter_output* }* ->
/// qgnn_interpreter_delete -> qgnn_model_delete.
///
/// Memory: the model refers to the caller's buffer without copying it (the buffer must stay alive and
/// unchanged, 16-byte aligned, until qgnn_model_delete). The caller owns the arena; setup and invoke never
/// allocate heap memory. Handles are small heap objects allocated at create time.
///
/// Errors: every function returns a qgnn_status. Functions taking a `qgnn_error*` fill it (when non-NULL)
/// with the status and a human-readable message naming what was wrong. No function aborts on bad input.
/// Thread safety: a model may be shared by many interpreters; one interpreter is used by one thread at a
/// time.
#ifndef QGNN_QGNN_H_
#define QGNN_QGNN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Newest model format version this runtime reads (docs/format.md, "Versions"): 1; 2 for files carrying an
/// unfolded BatchNorm, which a version-1 runtime would silently skip; 3 for files listing Layer.inputs
/// (explicit dataflow), which an older runtime would silently run as a chain; 4 for files with per-column
/// input scales (InputSpec.column_scales), which an older runtime would silently quantize with one scale.
#define QGNN_FORMAT_VERSION 6

/// The runtime's hard caps on graphs and layers. They bound every integer accumulator (docs/quantization.md,
/// "Accumulator widths"), so a model's own Limits may lower them but never raise them.
/// Features per node of any layer: 255 * 128 * 2^15 + 2^30 < 2^31 (int32 dense accumulator).
#define QGNN_MAX_FEATURES 32768u
/// Nodes per batch: 255 * 2^22 < 2^31 (int32 pooling accumulator).
#define QGNN_MAX_NODES (1u << 22)
/// Edges per batch: int32 CSR offsets with headroom.
#define QGNN_MAX_EDGES (1u << 28)
/// In-degree: int32 aggregation accumulator; the MEAN rescale adds log2(degree) <= 22 to a shift <= 40.
#define QGNN_MAX_DEGREE (1u << 22)
/// Graphs per batch.
#define QGNN_MAX_GRAPHS (1u << 22)

/// Status codes. Each malformed-model condition has its own code so tools and tests can tell them apart.
typedef enum qgnn_status {
  QGNN_OK = 0,
  /// A NULL pointer or an out-of-range argument was passed to the API.
  QGNN_INVALID_ARGUMENT = 1,
  /// The buffer is too small, misaligned, or does not carry the "QGNN" file identifier.
  QGNN_BAD_IDENTIFIER = 2,
  /// The FlatBuffers verifier rejected the buffer (truncated or corrupt structure).
  QGNN_MALFORMED_FLATBUFFER = 3,
  /// The file's format version is newer than QGNN_FORMAT_VERSION (or 0).
  QGNN_UNSUPPORTED_VERSION = 4,
  /// A required field is missing (layers, input spec, a Dense's weight, quantization parameters, ...).
  QGNN_MISSING_FIELD = 5,
  /// A tensor or buffer index points outside its array.
  QGNN_INDEX_OUT_OF_RANGE = 6,
  /// A tensor has the wrong element type for its role (e.g. a float weight in a quantized model).
  QGNN_BAD_TENSOR_TYPE = 7,
  /// Shapes do not chain (layer dims, bias length, number of scales/multipliers).
  QGNN_SHAPE_MISMATCH = 8,
  /// A buffer's byte size differs from ceil(elements * bits / 8).
  QGNN_BUFFER_SIZE_MISMATCH = 9,
  /// A bit width is not 4 or 8, or a zero point lies outside its bit range.
  QGNN_BAD_BITS = 10,
  /// A scale is not finite and > 0, or a fixed-point multiplier/shift is out of range.
  QGNN_BAD_QUANT_PARAMS = 11,
  /// A dimension or count exceeds the runtime's limits (or the model's own limits).
  QGNN_LIMIT_EXCEEDED = 12,
  /// A layer kind or option the runtime does not implement (e.g. from a newer writer).
  QGNN_UNSUPPORTED_LAYER = 13,
  /// The arena is smaller than qgnn_arena_size() reported (any alignment works: the reported size includes
  /// the slack needed to align the planned tensors to 16 bytes inside it).
  QGNN_ARENA_TOO_SMALL = 14,
  /// The input graph is malformed: non-monotonic row_ptr, col_idx out of range, bad graph_ptr, edges
  /// crossing graphs.
  QGNN_INVALID_GRAPH = 15,
  /// The input graph is larger than the plan (max nodes / edges / graphs given at create time).
  QGNN_GRAPH_TOO_LARGE = 16,
  /// A float input feature is NaN or infinite.
  QGNN_NON_FINITE_INPUT = 17,
  /// invoke or an output query was called before a successful setup / invoke.
  QGNN_NOT_READY = 18,
  /// Heap allocation of a handle failed.
  QGNN_OUT_OF_MEMORY = 19,
} qgnn_status;

/// Short stable name of a status, e.g. "QGNN_INVALID_GRAPH".
const char* qgnn_status_name(qgnn_status status);

/// Detailed error report.
typedef struct qgnn_error {
  qgnn_status status;
  /// NUL-terminated message, e.g. "layer 2 (conv2): weight tensor 7 has 16 input features, expected 32".
  char message[256];
} qgnn_error;

/// Model tasks (mirror of schema/common.fbs).
typedef enum qgnn_task {
  QGNN_TASK_GRAPH_CLASSIFICATION = 0,
  QGNN_TASK_NODE_CLASSIFICATION = 1,
} qgnn_task;

/// Opaque handles.
typedef struct qgnn_model qgnn_model;
typedef struct qgnn_interpreter qgnn_interpreter;

/// Verify and load a model. `data` must be 16-byte aligned and outlive the model (zero copy).
/// Runs the FlatBuffers verifier and every semantic check of docs/format.md ("Verification"). Every layer
/// kind this library has can run (the default op resolver), so every op is linked in.
qgnn_status qgnn_model_create(const void* data, size_t size, qgnn_model** model, qgnn_error* error);

/// A layer kind ("op"): its verification, memory plan and kernels. Opaque; one per kind, static.
typedef struct qgnn_op qgnn_op;
const qgnn_op* qgnn_op_linear(void);       ///< Linear (Dense on node or graph rows)
const qgnn_op* qgnn_op_gcn_conv(void);     ///< GCNConv
const qgnn_op* qgnn_op_sage_conv(void);    ///< SAGEConv (MEAN / MAX, optional root term)
const qgnn_op* qgnn_op_gin_conv(void);     ///< GINConv (MLP of Dense ops)
const qgnn_op* qgnn_op_global_pool(void);  ///< GlobalPool (SUM / MEAN / MAX over each graph's nodes)
const qgnn_op* qgnn_op_gat_conv(void);     ///< GATConv (attention heads, concatenated or averaged)
/// The kind's schema name, e.g. "GCNConv" ("" for NULL).
const char* qgnn_op_name(const qgnn_op* op);

/// The layer kinds an application runs (tflite-micro's op resolver): a model using a kind not listed is
/// refused with QGNN_UNSUPPORTED_LAYER, and only the listed ops are linked into the application, e.g. a
/// firmware running a GIN lists qgnn_op_gin_conv, qgnn_op_global_pool and qgnn_op_linear and links no GCN
/// or SAGE code. `ops` (num_ops entries) is read during qgnn_model_create only.
typedef struct qgnn_op_resolver {
  const qgnn_op* const* ops;
  size_t num_ops;
} qgnn_op_resolver;

/// qgnn_model_create with the layer kinds of `resolver` only.
qgnn_status qgnn_model_create_with_ops(const void* data, size_t size, const qgnn_op_resolver* resolver,
                                       qgnn_model** model, qgnn_error* error);

/// Release a model (not the caller's buffer).
void qgnn_model_delete(qgnn_model* model);

/// Read-only facts about a loaded model.
typedef struct qgnn_model_info {
  const char* name;  ///< model name ("" when absent); points into the model buffer
  qgnn_task task;
  uint32_t num_layers;
  uint32_t input_dim;    ///< features per input node
  uint32_t num_classes;  ///< output features
  int quantized;         ///< 1: integer execution, 0: float execution
  int input_is_int8;     ///< 1: features must be given as int8 (qgnn_graph.features_i8)
  float input_scale;     ///< quantized models: input quantization
  int32_t input_zero_point;
  float output_scale;  ///< quantized models: quantization of the output logits
  int32_t output_zero_point;
  size_t parameter_bytes;  ///< bytes of all parameter buffers
  uint32_t max_nodes;      ///< effective limits (model's own, capped by the runtime's)
  uint32_t max_edges;
  uint32_t max_degree;
  uint32_t max_graphs;
} qgnn_model_info;
qgnn_status qgnn_model_get_info(const qgnn_model* model, qgnn_model_info* info);

/// Quantized models whose input has one scale per feature column (format version 4, docs/quantization.md
/// "Per-column input scales"): input_dim scales, feature k quantized as round(x / scales[k]) +
/// input_zero_point. NULL when every column uses info.input_scale (or for NULL / float models). Points into
/// the model buffer. Callers that hand in int8 features (input_is_int8) must quantize each column with its
/// scale.
const float* qgnn_model_input_column_scales(const qgnn_model* model);

/// 1 when the model takes sparse features (qgnn_interpreter_setup_sparse): a model with float input whose
/// input is read only by Dense ops (Linear, transform-first GCNConv, transform-first SAGEConv with or
/// without root; in a float model without BatchNorm),
/// which then compute X·W from the non-zeros (quantized: the same bytes as dense features; float: the same
/// values to rounding). 0 otherwise (and for NULL).
int qgnn_model_accepts_sparse_features(const qgnn_model* model);

/// Name of class `index` ("" when the model has no class names).
const char* qgnn_model_class_name(const qgnn_model* model, uint32_t index);

/// The largest graph (batch) an interpreter must handle; sizes the arena.
typedef struct qgnn_plan_limits {
  uint32_t max_nodes;
  uint32_t max_edges;
  uint32_t max_graphs;  ///< graphs per batch; 1 for node classification
} qgnn_plan_limits;

/// Bytes of arena an interpreter needs for `limits` (includes 16 bytes of alignment slack), whatever its
/// options: the arena starts with a persistent part where qgnn_interpreter_create packs the quantized weights
/// for the chosen kernels (x86 twins; nothing for the reference and arm64 kernels), and this size has room
/// for any instruction set this build has.
qgnn_status qgnn_arena_size(const qgnn_model* model, const qgnn_plan_limits* limits, size_t* bytes,
                            qgnn_error* error);

/// Interpreter options. Initialise with qgnn_interpreter_options_init (or QGNN_INTERPRETER_OPTIONS_INIT),
/// which sets `size`: fields are only ever appended, and the runtime reads only the fields a caller's
/// `size` covers (later ones take their defaults), so a program compiled against an older header keeps
/// working with a newer runtime.
typedef struct qgnn_interpreter_options {
  /// sizeof(qgnn_interpreter_options) as the caller compiled it; 0 or less than the first two fields is
  /// refused with QGNN_INVALID_ARGUMENT.
  uint32_t size;
  /// Worker threads for invoke (1 = the calling thread only). Ignored where threads are unavailable.
  uint32_t num_threads;
  /// Instruction set of the integer kernels: "reference", "avx2", "avx512", "neon" or "neondot"; NULL or ""
  /// takes the environment variable QGNN_ISA, else the fastest this build and CPU support. Every choice gives
  /// bit-identical results. An unknown or unavailable name fails creation with QGNN_INVALID_ARGUMENT.
  const char* isa;
  /// Backend of the float path's dense updates (Linear and the GCN / SAGE / GIN updates of a FLOAT32 model):
  /// "reference" (the reference kernels: sums in index order, reproducible everywhere) or "xnnpack"
  /// (XNNPACK's f32 fully connected on the interpreter's threads; within the float rounding bound of the
  /// reference, and identical for every thread count). NULL or "" takes the environment variable QGNN_FP32,
  /// else "xnnpack" where this build and CPU have it, else "reference". An unknown or unavailable name fails
  /// creation with QGNN_INVALID_ARGUMENT. Quantized models are not affected; builds with
  /// QGNN_FLOAT_MODELS=OFF (firmware) run no float models and ignore this field.
  const char* fp32;
  /// 0 (default): after every invoke the pool's worker threads sleep in the kernel until the next one, so an
  /// idle interpreter uses no CPU and leaves the cores to other interpreters' pools and the application.
  /// 1: they keep spin-waiting between invokes (pthreadpool's default), which saves the wake-up (a few
  /// microseconds, e.g. MUTAG-size graphs on 2 threads) when invokes follow each other back to back on a
  /// machine with spare cores. Ignored with one thread.
  int spin_workers;
} qgnn_interpreter_options;

/// The defaults: 1 thread, the ISA and FP32 backend chosen by the environment or the CPU, sleeping workers.
#define QGNN_INTERPRETER_OPTIONS_INIT \
  { sizeof(qgnn_interpreter_options), 1u, NULL, NULL, 0 }

/// Sets `options` to QGNN_INTERPRETER_OPTIONS_INIT.
void qgnn_interpreter_options_init(qgnn_interpreter_options* options);

/// Bytes of arena an interpreter created with `options` (NULL: the defaults) needs for `limits`: the exact
/// size for its instruction set, at most qgnn_arena_size(). With isa "reference" it is what a microcontroller
/// build of the runtime (reference kernels only) needs, on any host. An ISA name that is unknown or cannot
/// run here fails as in qgnn_interpreter_create.
qgnn_status qgnn_arena_size_for_options(const qgnn_model* model, const qgnn_plan_limits* limits,
                                        const qgnn_interpreter_options* options, size_t* bytes,
                                        qgnn_error* error);

/// Create an interpreter over a caller-owned arena of at least qgnn_arena_size() bytes. `options` may be
/// NULL (the defaults). The arena must stay alive until qgnn_interpreter_delete.
qgnn_status qgnn_interpreter_create(const qgnn_model* model, const qgnn_plan_limits* limits, void* arena,
                                    size_t arena_bytes, const qgnn_interpreter_options* options,
                                    qgnn_interpreter** interpreter, qgnn_error* error);

void qgnn_interpreter_delete(qgnn_interpreter* interpreter);

/// Name of the instruction set the interpreter's integer kernels use ("reference", "avx2", ...).
const char* qgnn_interpreter_isa(const qgnn_interpreter* interpreter);

/// Input graph: one CSR over all nodes of the batch (row i lists the in-neighbours of i), cut into graphs
/// by graph_ptr. The arrays are read during invoke and must stay unchanged until it returns.
typedef struct qgnn_graph {
  uint32_t num_nodes;
  uint32_t num_edges;
  uint32_t num_graphs;        ///< >= 1 (graph classification: rows of output; node classification: 1)
  const int32_t* row_ptr;     ///< num_nodes + 1 entries, row_ptr[0] = 0, non-decreasing, last = num_edges
  const int32_t* col_idx;     ///< num_edges entries in [0, num_nodes), inside the same graph
  const int32_t* graph_ptr;   ///< num_graphs + 1 node offsets; may be NULL when num_graphs == 1
  const float* features_f32;  ///< num_nodes * input_dim floats (float-input models), else NULL
  const int8_t* features_i8;  ///< num_nodes * input_dim int8 (int8-input models), else NULL
} qgnn_graph;

/// Validate a graph against the model and the plan and bind it for the next invoke.
qgnn_status qgnn_interpreter_setup(qgnn_interpreter* interpreter, const qgnn_graph* graph, qgnn_error* error);

/// Float node features as a sparse matrix over the graph's nodes (CSR): node i's non-zero features are
/// (col_idx[e], values[e]) for e in [row_ptr[i], row_ptr[i + 1]). Bag-of-words inputs (Cora: 1.3 % non-zero)
/// are read in this form, never densified. The arrays are read during invoke, like the graph's.
typedef struct qgnn_sparse_features {
  uint32_t nnz;            ///< non-zeros in all
  const int32_t* row_ptr;  ///< num_nodes + 1 entries, row_ptr[0] = 0, non-decreasing, last = nnz
  const int32_t* col_idx;  ///< nnz feature indices in [0, input_dim), strictly increasing within a node
  const float* values;     ///< nnz finite values (explicit zeros are allowed)
} qgnn_sparse_features;

/// qgnn_interpreter_setup with sparse float features instead of graph->features_f32 (which must be NULL) for
/// models that accept them (qgnn_model_accepts_sparse_features): the results are exactly those of the dense
/// features. Validated like the graph (QGNN_INVALID_GRAPH names the first bad entry); the setup is not bound
/// on failure.
qgnn_status qgnn_interpreter_setup_sparse(qgnn_interpreter* interpreter, const qgnn_graph* graph,
                                          const qgnn_sparse_features* features, qgnn_error* error);

/// Run the model on the bound graph. Performs no heap allocation.
qgnn_status qgnn_interpreter_invoke(qgnn_interpreter* interpreter, qgnn_error* error);

/// Shape of the last output: `rows` (graphs or nodes) x `cols` (classes).
typedef struct qgnn_output {
  uint32_t rows;
  uint32_t cols;
  /// Quantized models: int8 logits, rows * cols, row-major (valid until the next invoke); NULL for
  /// float models.
  const int8_t* logits_q;
  float scale;  ///< real = scale * (q - zero_point)
  int32_t zero_point;
  /// Float models: float logits, rows * cols; NULL for quantized models.
  const float* logits_f32;
} qgnn_output;
qgnn_status qgnn_interpreter_output(const qgnn_interpreter* interpreter, qgnn_output* output);

/// Dequantized (or float) logits into `out` (capacity `count` >= rows * cols floats).
qgnn_status qgnn_interpreter_output_float(const qgnn_interpreter* interpreter, float* out, size_t count);

/// Predicted class of every output row into `out` (capacity `count` >= rows).
qgnn_status qgnn_interpreter_argmax(const qgnn_interpreter* interpreter, int32_t* out, size_t count);

/// Profiling callback: `step` 0 marks the start of an invoke; step k >= 1 marks the end of stage k, where
/// stage 1 is the input (quantizing or packing the features), stages 2 .. num_layers + 1 are the model's
/// layers in order, and stage num_layers + 2 is the logits (unpacking int4 logits; empty otherwise). The
/// caller reads its own clock in the callback: stage k took t(k) - t(k - 1). Called on the invoking thread,
/// num_layers + 3 times per invoke.
typedef void (*qgnn_profile_callback)(void* user_data, uint32_t step);

/// Installs (or, with a NULL callback, removes) a profiling callback for every later invoke. The runtime
/// stores only the two pointers: no clock, no buffer, no heap; without a callback invoke pays one branch per
/// stage. `user_data` is passed back unchanged and must stay valid while the callback is installed.
qgnn_status qgnn_interpreter_set_profiler(qgnn_interpreter* interpreter, qgnn_profile_callback callback,
                                          void* user_data);

/// Node reordering (host-side utilities; docs/runtime.md "Node reordering"). Renumbering the nodes so that
/// neighbours get nearby ids makes the aggregation's gathers of neighbour rows hit the caches more often. The
/// caller computes a permutation once per graph (qgnn_graph_reorder), applies it to the graph and its
/// features (qgnn_graph_permute, qgnn_sparse_features_permute), runs the model on the permuted graph and
/// brings per-node outputs back to the original order (qgnn_rows_unpermute). Integer models give the same
/// bytes per original node; so do float node-classification models on the reference FP32 backend, because
/// each permuted row lists its neighbours in the original row's order (the float sums see the same operands
/// in the same order). XNNPACK's GEMM may round a row differently at another place in its tiles, and float
/// SUM / MEAN pooling adds a graph's nodes in the new order: those agree within the float rounding bound.
///
/// A permutation `perm` has num_nodes entries: perm[i] is the new index of original node i. It maps each
/// graph of a batch onto its own node range (graph_ptr is unchanged), so per-graph outputs keep their order.
/// Nothing here allocates: every buffer belongs to the caller.
typedef enum qgnn_reorder_method {
  /// The identity.
  QGNN_REORDER_NONE = 0,
  /// Reverse Cuthill-McKee: per connected component (following each row's in-neighbours), a breadth-first
  /// search from a pseudo-peripheral node of low degree (George-Liu, at most 8 refinements) that enqueues
  /// each node's unvisited neighbours by ascending in-degree (ties: lower id), the whole order reversed
  /// within each graph. Neighbours end up close in id: a small bandwidth.
  QGNN_REORDER_RCM = 1,
  /// Descending in-degree (ties: lower id) within each graph: the rows the most edges point at (the hubs
  /// of a power-law graph, which a symmetric graph also gathers most often) share cache lines and pages.
  QGNN_REORDER_DEGREE = 2,
} qgnn_reorder_method;

/// Bytes of scratch qgnn_graph_reorder needs for `num_nodes` nodes with `method` (any alignment; the size
/// includes the slack to align it): 0 for NONE, about 4 per node for DEGREE and 8 for RCM.
/// QGNN_INVALID_ARGUMENT: unknown method or NULL `bytes`; QGNN_GRAPH_TOO_LARGE: num_nodes > QGNN_MAX_NODES.
qgnn_status qgnn_graph_reorder_scratch_size(uint32_t num_nodes, qgnn_reorder_method method, size_t* bytes,
                                            qgnn_error* error);

/// Computes `perm` (num_nodes entries) for `graph` with `method`, using `scratch` (at least
/// qgnn_graph_reorder_scratch_size bytes; may be NULL when that is 0). Features are not read. The graph is
/// validated as qgnn_interpreter_setup validates its structure, against the runtime's caps instead of a
/// plan: NULL arrays (QGNN_INVALID_ARGUMENT), malformed row_ptr / col_idx / graph_ptr or edges crossing
/// graphs (QGNN_INVALID_GRAPH), more than QGNN_MAX_NODES / _EDGES / _GRAPHS / _DEGREE
/// (QGNN_GRAPH_TOO_LARGE). Deterministic: the same graph always gives the same permutation.
qgnn_status qgnn_graph_reorder(const qgnn_graph* graph, qgnn_reorder_method method, int32_t* perm,
                               void* scratch, size_t scratch_bytes, qgnn_error* error);

/// Applies `perm` to `graph` into caller buffers that must not overlap the graph's: `row_ptr`
/// (num_nodes + 1), `col_idx` (num_edges), and the features the graph has — `features_f32` or
/// `features_i8`, num_nodes * feature_dim each (the other may be NULL). Node perm[i]'s row lists
/// perm[j] for the j of node i's row, in that row's order. Fills `permuted` with these arrays, the graph's
/// counts and its graph_ptr (unchanged, so it must stay alive too). The graph is validated as in
/// qgnn_graph_reorder; `perm` must be a bijection of [0, num_nodes) that keeps every node inside its graph
/// (QGNN_INVALID_ARGUMENT naming the first bad entry); a graph with features needs feature_dim in
/// [1, QGNN_MAX_FEATURES] and its output array (QGNN_INVALID_ARGUMENT). On failure `permuted` is untouched
/// and the output buffers hold unspecified values.
qgnn_status qgnn_graph_permute(const qgnn_graph* graph, uint32_t feature_dim, const int32_t* perm,
                               int32_t* row_ptr, int32_t* col_idx, float* features_f32, int8_t* features_i8,
                               qgnn_graph* permuted, qgnn_error* error);

/// Applies `perm` to sparse features of `graph`'s nodes (qgnn_sparse_features) into caller buffers:
/// `row_ptr` (num_nodes + 1), `col_idx` and `values` (features->nnz each); node perm[i] gets node i's
/// entries unchanged. Fills `permuted` on success. Checks the graph and `perm` as qgnn_graph_permute does
/// and the features' row_ptr (QGNN_INVALID_GRAPH); their columns and values are copied, and checked by
/// qgnn_interpreter_setup_sparse.
qgnn_status qgnn_sparse_features_permute(const qgnn_graph* graph, const qgnn_sparse_features* features,
                                         const int32_t* perm, int32_t* row_ptr, int32_t* col_idx,
                                         float* values, qgnn_sparse_features* permuted, qgnn_error* error);

/// Brings per-node rows of a permuted graph back to the original order: row i of `rows` becomes row
/// perm[i] of `permuted_rows` (num_rows rows of row_bytes bytes each, e.g. a node classifier's logits with
/// row_bytes = cols * sizeof element). The two buffers must not overlap. Every perm[i] must lie in
/// [0, num_rows) (QGNN_INVALID_ARGUMENT naming the first that does not; checked before anything is
/// written); a permutation from qgnn_graph_reorder for the graph the rows belong to is a bijection, so
/// every row is written once. num_rows * row_bytes must fit a size_t (QGNN_LIMIT_EXCEEDED).
qgnn_status qgnn_rows_unpermute(const int32_t* perm, uint32_t num_rows, size_t row_bytes,
                                const void* permuted_rows, void* rows, qgnn_error* error);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // QGNN_QGNN_H_
