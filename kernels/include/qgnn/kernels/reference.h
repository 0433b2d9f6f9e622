// Portable reference kernels. They DEFINE the numerics: every optimized twin (AVX2, AVX-512-VNNI, NEON)
// must produce bit-identical results. Arithmetic is stated in docs/quantization.md and implemented with
// the helpers of numerics.h.
//
// Conventions shared by every kernel:
//  * Graphs are CSR: row i lists the sources j of the edges j -> i (in-neighbours), so the degree of i
//    is row_ptr[i + 1] - row_ptr[i]. Inputs are assumed validated by the runtime (monotonic row_ptr,
//    col_idx in range); kernels do not re-check.
//  * Kernels work on a half-open range of output rows [row_begin, row_end) so a caller can split work
//    across threads; results never depend on the split.
//  * Activations are row-major; int8 rows are `cols` bytes, int4 rows are row_bytes(cols, 4) bytes, packed
//    low nibble first, each row starting on a byte boundary.
//  * No kernel allocates memory.
#ifndef QGNN_KERNELS_REFERENCE_H_
#define QGNN_KERNELS_REFERENCE_H_

#include <cstddef>
#include <cstdint>

namespace qgnn {
namespace kernels {

/// A CSR graph (or a batch of graphs, as one block-diagonal CSR).
struct CsrGraph {
  const int32_t* row_ptr;  ///< num_nodes + 1 offsets
  const int32_t* col_idx;  ///< row_ptr[num_nodes] source ids
  int32_t num_nodes;
};

/// A quantized activation matrix (node features, aggregation result, layer output).
struct QActivation {
  void* data;          ///< int8_t[rows][cols] or packed int4 rows
  int bits;            ///< 8 or 4
  int32_t zero_point;  ///< in [qmin(bits), qmax(bits)]
};
struct QActivationConst {
  const void* data;
  int bits;
  int32_t zero_point;
};

/// One rescale (multiplier/shift pair), see numerics.h rescale().
struct Rescale {
  int32_t multiplier;
  int32_t shift;
};

/// Per-output-channel rescale arrays.
struct ChannelRescale {
  const int32_t* multiplier;
  const int32_t* shift;
};

/// Quantized weights, row-major [out_features][in_features], symmetric (zero point 0). Int4 weights are
/// packed contiguously over the whole matrix (a row may start mid-byte).
struct QWeights {
  const void* data;
  int bits;  ///< 8 or 4
  /// Optional: the same operand pre-arranged by KernelTable::dense_pack of the table whose dense() is called
  /// (kernel_table.h). The reference ignores it; a twin uses it only when it was packed from this very
  /// operand (data, shape, bias and rescale), else it runs from `data`.
  const void* packed = nullptr;
};

/// Aggregation modes of the message-passing layers.
enum class AggregateMode : int {
  kSum = 0,   ///< sum over in-neighbours (GIN adds its self term, see self_weight_q16)
  kMean = 1,  ///< mean over in-neighbours; degree 0 gives real 0
  kMax = 2,   ///< max over in-neighbours; degree 0 gives real 0
  kGcn = 3,   ///< sum over in-neighbours and self of x_j / sqrt(d_i d_j), d counting the self-loop
};

// ---------------------------------------------------------------------------------------------------
// Quantized (int8 / packed int4) kernels
// ---------------------------------------------------------------------------------------------------

/// Quantize float rows at the model input: out[i][k] = quantize_float(in[i][k], s_k, zero_point, bits), with
/// s_k = column_scales[k] when the model has per-column input scales (docs/quantization.md, "Per-column input
/// scales"), else s_k = scale for every column (column_scales == nullptr).
void quantize_rows(const float* in, int32_t cols, float scale, const float* column_scales, QActivation out,
                   int32_t row_begin, int32_t row_end);

/// Copy pre-quantized int8 rows into an activation of `out.bits` bits (values must already fit).
void pack_rows_int8(const int8_t* in, int32_t cols, QActivation out, int32_t row_begin, int32_t row_end);

/// GCN normalisation factors: norm_q15[i] = gcn_norm_q15(degree(i) + 1) for i in [row_begin, row_end).
void gcn_norm(const CsrGraph& graph, int32_t* norm_q15, int32_t row_begin, int32_t row_end);

/// The arguments of one aggregation: the mode and the arguments only some modes use, so every
/// aggregate() implementation (reference and twins) takes the same two-parameter shape.
struct AggregateParams {
  AggregateMode mode;
  Rescale rq;               ///< the rescale of the accumulator (kMean folds 1 / degree into it per row)
  int32_t self_weight_q16;  ///< kSum only: GIN's (1 + eps) in Q16; 0 = no self term
  const int32_t* norm_q15;  ///< kGcn only: gcn_norm() factors of EVERY node of the graph; else may be null
  /// kSum and kGcn only (null for kMean / kMax): a per-column int32 bias (cols entries, |bias| < 2^30) added
  /// to the accumulator before the rescale, in the accumulator's units (a transform-first layer's bias at the
  /// message scale); null: none.
  const int32_t* bias = nullptr;
  /// Clamp the output at max(qmin, zo) instead of qmin (a transform-first layer's fused ReLU).
  bool relu = false;
};

/// Aggregate in-neighbour features and requantize to `out` (p = params):
///   kSum:  acc = sum_j (x_j - zx) [+ rounding_shift_right((x_i - zx) * p.self_weight_q16, 16) if
///          p.self_weight_q16 != 0];                      out = clamp(zo + rescale(acc, p.rq))
///   kMean: acc = sum_j (x_j - zx); degree d = 0: out = zo;
///          else out = clamp(zo + rescale(acc, mean_rescale(p.rq, d)))
///   kMax:  degree 0: out = zo; else acc = max_j x_j - zx; out = clamp(zo + rescale(acc, p.rq))
///   kGcn:  acc64 = sum_{j in N(i) ∪ {i}} (x_j - zx) * norm_j; t = rounding_shift_right(acc64 * norm_i, 30);
///          out = clamp(zo + rescale(t, p.rq))   (norm_q15 from gcn_norm(), required for kGcn only)
/// With p.bias (kSum, kGcn): acc (kSum) or t (kGcn) + p.bias[k] is rescaled instead; with p.relu the clamp's
/// lower bound is max(qmin, zo) (empty kMean / kMax rows give zo either way).
/// p.norm_q15 must hold the factors of EVERY node of the graph (neighbours are looked up by id), not only of
/// [row_begin, row_end). An explicit self-loop edge is an ordinary edge (in N(i) and the degree); GCN's own
/// self-loop comes on top. self_weight_q16 is used by kSum only.
void aggregate(const CsrGraph& graph, const AggregateParams& params, QActivationConst in, int32_t cols,
               QActivation out, int32_t row_begin, int32_t row_end);

/// A second input of a dense update whose accumulator is rescaled separately and added (SAGEConv's root
/// term W_r x_i): out = clamp(zo + rescale(acc_main, rq_main[c]) + rescale(acc_extra, rq_extra[c])).
struct DenseExtraInput {
  QActivationConst in;
  int32_t in_cols;
  QWeights weights;     ///< [out_cols][in_cols]
  const int32_t* bias;  ///< may be null
  ChannelRescale rq;
};

/// Dense update over rows: acc[c] = bias[c] + sum_k (x[k] - zx) * w[c][k] in int32;
/// out[c] = clamp(zo + rescale(acc[c], rq[c]) [+ extra term], relu ? max(qmin, zo) : qmin, qmax).
/// `bias` and `extra` may be null.
void dense(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias, ChannelRescale rq,
           const DenseExtraInput* extra, bool relu, QActivation out, int32_t out_cols, int32_t row_begin,
           int32_t row_end);

/// Sparse float rows (CSR over rows of a batch): row r's non-zeros are (col_idx[e], values[e]) for e in
/// [row_ptr[r], row_ptr[r + 1]), columns strictly increasing within a row (bag-of-words node features).
struct SparseRows {
  const int32_t* row_ptr;
  const int32_t* col_idx;
  const float* values;
};

/// How float input is quantized (the model input's QuantParams and per-column scales): column k with
/// column_scales[k] when not null, else `scale`.
struct InputQuantization {
  float scale;
  const float* column_scales;
  int32_t zero_point;
  int bits;  ///< 8 or 4
};

/// Dense update of sparse float rows, quantized on the fly (the first layer of a model fed sparse features):
///   acc[c] = bias[c] + sum_{e in row i} (quantize_float(values[e], s_k, zx, bits) - zx) * w[c][k], k = col_idx[e]
///   out[c] = clamp(zo + rescale(acc[c], rq[c]), relu ? max(qmin, zo) : qmin, qmax)
/// i.e. exactly dense() on the densified rows quantized with quantize_rows(), since a zero quantizes to zx
/// (a term of 0). Weights as dense() (`weights.packed`: sparse_dense_pack's operand of this table, or null).
void sparse_dense(SparseRows in, int32_t in_cols, InputQuantization q, QWeights weights, const int32_t* bias,
                  ChannelRescale rq, bool relu, QActivation out, int32_t out_cols, int32_t row_begin,
                  int32_t row_end);

/// Sparse float rows into dense activation rows: out[i][k] = quantize_float(v, s_k, zx, bits) where row i has
/// the non-zero (k, v), else zx; i.e. quantize_rows() of the densified rows (a zero quantizes to zx). Rows
/// [row_begin, row_end) of `in` to the same rows of `out`.
void quantize_sparse_rows(SparseRows in, int32_t cols, InputQuantization q, QActivation out,
                          int32_t row_begin, int32_t row_end);

/// Global pooling: one output row per graph g over nodes [graph_ptr[g], graph_ptr[g+1]):
///   kSum: acc = sum_i (x_i - zx); kMean: the sum rescaled with mean_rescale(rq, count);
///   kMax: acc = max_i x_i - zx. An empty graph gives zo. out = clamp(zo + rescale(acc, rq)). `mode` must not
///   be kGcn.
void global_pool(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols, Rescale rq,
                 QActivation out, int32_t graph_begin, int32_t graph_end);

/// Dequantize rows to float: out[i][k] = scale * (q - zero_point).
void dequantize_rows(QActivationConst in, int32_t cols, float scale, float* out, int32_t row_begin,
                     int32_t row_end);

/// Index of the largest element of each row (the first on ties; -1 when cols == 0).
void argmax_rows(QActivationConst in, int32_t cols, int32_t* out, int32_t row_begin, int32_t row_end);

// ---------------------------------------------------------------------------------------------------
// GAT attention (kernels/attention/; docs/quantization.md, "GAT attention (kernels)")
// ---------------------------------------------------------------------------------------------------

/// Entries of the softmax's exp table: one per logit difference 0..255 (int8 logits; 4-bit logits, in
/// [-8, 7], read entries 0..15 of the same table).
constexpr int32_t kGatExpTableSize = 256;

/// Per-node attention terms of H heads of F features over the messages m = W x ([rows][H * F], int8 or
/// packed int4, zero point zm): for node j in [row_begin, row_end) and head h,
///   src_terms[j * H + h] = sum_f att_src[h * F + f] * (m[j][h * F + f] - zm)      int32
///   dst_terms[j * H + h] = sum_f att_dst[h * F + f] * (m[j][h * F + f] - zm)      int32
/// att_src / att_dst are int8 [H][F] at one scale shared by both (their sums are added). |term| < 2^30 for
/// H * F <= 2^15.
void gat_attention_terms(QActivationConst messages, int32_t heads, int32_t head_dim, const int8_t* att_src,
                         const int8_t* att_dst, int32_t* src_terms, int32_t* dst_terms, int32_t row_begin,
                         int32_t row_end);

/// The arguments of one GAT aggregation (gat_aggregate).
struct GatParams {
  int32_t heads;             ///< H >= 1
  int32_t head_dim;          ///< F >= 1; messages are [nodes][H * F]
  const int32_t* src_terms;  ///< [nodes][H] of EVERY node (neighbours are looked up by id)
  const int32_t* dst_terms;  ///< [nodes][H]; rows [row_begin, row_end) are read
  Rescale logit_pos;         ///< logit requant of a non-negative term sum (~ s_m s_a / s_e)
  Rescale logit_neg;         ///< of a negative one: LeakyReLU's slope folded in (~ 0.2 s_m s_a / s_e)
  int32_t logit_zero_point;  ///< z_e of the logits, in [qmin, qmax] of logit_bits
  /// kGatExpTableSize entries, Q15: exp_table[k] = round(2^15 * exp(-s_e * k)), exp_table[0] = 32768.
  const uint16_t* exp_table;
  bool concat;            ///< heads concatenated (out [nodes][H * F]) or averaged (out [nodes][F])
  const int32_t* bias;    ///< one per output column, at the accumulator's scale (|bias| < 2^30); null: none
  ChannelRescale rq;      ///< one per output column (~ s_m / (256 s_out), mean: / H too)
  bool relu = false;      ///< clamp the output at max(qmin, zo)
  /// Bits of the logits, 8 or 4: they are clamped to [qmin, qmax] of this width (4 bits: [-8, 7], held in
  /// the same int32 values; only exp_table[0..15] is read).
  int32_t logit_bits = 8;
};

/// GAT aggregation with the softmax over N(i) ∪ {i} (the self-loop is always added, on top of an explicit
/// self-loop edge), per destination row i and head h (p = params, j over the row's edges and i itself):
///   e_j   = clamp(z_e + rescale(src[j][h] + dst[i][h], that sum >= 0 ? p.logit_pos : p.logit_neg), lo, hi)
///           ([lo, hi] of p.logit_bits: [-128, 127] or [-8, 7])
///   t_j   = exp_table[emax - e_j]   (emax = the row's largest e);   S = sum_j t_j  (int64)
///   inv   = S == 0 ? 0 : min((2^47 + S / 2) / S, 2^32 - 1);   alpha_j = min(255, (t_j * inv + 2^38) >> 39)
///   acc[h][f] = sum_j alpha_j * (m[j][h * F + f] - zm)        int32
/// concat: out[i][h * F + f] = clamp(zo + rescale(acc[h][f] + bias, rq[h * F + f]), lo, qmax);
/// mean:   out[i][f] = clamp(zo + rescale(sum_h acc[h][f] + bias, rq[f]), lo, qmax)
/// with lo = relu ? max(qmin, zo) : qmin. Degree bounds (int32 accumulators): concat any in-degree <= 2^22;
/// mean H <= 64 and H * (in-degree + 1) <= 2^22.
void gat_aggregate(const CsrGraph& graph, const GatParams& params, QActivationConst messages, QActivation out,
                   int32_t row_begin, int32_t row_end);

// ---------------------------------------------------------------------------------------------------
// Image graphs (kernels/graph/; docs/quantization.md, "kNN graph"): the graphs a vision GNN (ViG) rebuilds
// over its patch nodes, the dilated k nearest neighbours in feature space or a fixed 8-neighbour grid.
// ---------------------------------------------------------------------------------------------------

/// Most nodes of one kNN segment (one image's patches): a 64 x 64 patch grid (ViG's largest stage is 56 x
/// 56). The work is quadratic in the segment (n^2 * cols multiply-adds), so larger inputs are refused.
constexpr int32_t kKnnMaxNodes = 4096;
/// Most feature columns: 255^2 * 2^15 = 2,130,739,200 < 2^31, so every squared distance is exact in int32.
constexpr int32_t kKnnMaxCols = 32768;

/// Outcome of knn_graph / grid_graph: every malformed call has its own value, and nothing is written then.
enum class KnnStatus : int32_t {
  kOk = 0,
  kNullPointer = 1,       ///< graph_ptr, in.data, row_ptr, col_idx or scratch is null
  kBadBits = 2,           ///< in.bits is neither 8 nor 4
  kBadCols = 3,           ///< cols < 1 or cols > kKnnMaxCols
  kBadK = 4,              ///< k < 1 or dilation < 1
  kBadGraphPtr = 5,       ///< num_graphs < 0, graph_ptr[0] != 0, or graph_ptr decreasing
  kTooFewNodes = 6,       ///< a segment with fewer than k * dilation nodes (grid_graph: height or width < 1)
  kTooManyNodes = 7,      ///< a segment (grid_graph: a grid) with more than kKnnMaxNodes nodes
  kTooManyEdges = 8,      ///< the CSR would hold 2^31 or more entries (nodes * k, or the grids' edges)
  kBadRowRange = 9,       ///< not 0 <= row_begin <= row_end <= graph_ptr[num_graphs]
  kScratchTooSmall = 10,  ///< scratch_bytes < knn_graph_scratch_bytes(largest segment, cols, k, dilation)
};

/// The arguments of knn_graph: node segments (one per image) and the dilated neighbourhood.
struct KnnGraphParams {
  /// num_graphs + 1 offsets: segment g is nodes [graph_ptr[g], graph_ptr[g + 1]), an image's patches; a
  /// node's candidates are the nodes of its own segment only. Each segment holds k * dilation .. kKnnMaxNodes
  /// nodes.
  const int32_t* graph_ptr;
  int32_t num_graphs;
  int32_t k;         ///< neighbours per node, >= 1
  int32_t dilation;  ///< >= 1: every dilation-th of the k * dilation nearest is kept
};

/// Bytes of scratch knn_graph needs (every table of every build: an upper bound over the ISAs) for segments
/// of at most `max_nodes` nodes; 0 when the arguments are out of range (what knn_graph would refuse).
size_t knn_graph_scratch_bytes(int32_t max_nodes, int32_t cols, int32_t k, int32_t dilation);

/// The checks every knn_graph implementation runs first, in this order, and whose result it returns (after
/// writing nothing) unless kOk: pointers, bits, cols, k and dilation, graph_ptr, segment sizes, the CSR
/// size, the row range, the scratch size. A caller's Prepare may run it on its own.
KnnStatus knn_graph_check(const KnnGraphParams& params, QActivationConst in, int32_t cols, int32_t row_begin,
                          int32_t row_end, const int32_t* row_ptr, const int32_t* col_idx,
                          const void* scratch, size_t scratch_bytes);

/// The dilated k-nearest-neighbour graph of the feature rows, as a CSR of in-neighbours (p = params): for
/// node i of segment [s, e) and the squared distances
///   d(i, j) = sum_c (x[i][c] - x[j][c])^2          exact in int32 (the zero point cancels), j in [s, e)
/// the candidates j (i itself included, d = 0) are ordered by (d(i, j), j) ascending; of the first
/// k * dilation, positions 0, dilation, 2 dilation, ... are i's k neighbours, written in that order:
///   row_ptr[i + 1] = (i + 1) * k,   col_idx[i * k + t] = the candidate at position t * dilation.
/// Rows [row_begin, row_end) are written (row_ptr[0] = 0 too when row_begin == 0 < row_end); `in` is
/// int8 or packed int4 rows of `cols` features over every node of the batch. `scratch` (any alignment,
/// scratch_bytes >= knn_graph_scratch_bytes(largest segment, cols, k, dilation)) is the call's own working
/// memory, so calls running at once need scratch of their own. Returns knn_graph_check's status; kOk when the
/// rows were written.
KnnStatus knn_graph(const KnnGraphParams& params, QActivationConst in, int32_t cols, int32_t row_begin,
                    int32_t row_end, int32_t* row_ptr, int32_t* col_idx, void* scratch, size_t scratch_bytes);

/// Entries of grid_graph's col_idx: num_graphs grids of height x width nodes, each node linked to its up to 8
/// neighbours (and itself with self_loops); -1 for arguments grid_graph refuses.
int64_t grid_graph_edges(int32_t height, int32_t width, int32_t num_graphs, bool self_loops);

/// The fixed 8-neighbour graph of num_graphs height x width patch grids (ViG's cheap alternative to kNN):
/// node b * H * W + y * W + x has as in-neighbours, in ascending index order, the nodes (y', x') of its grid
/// with |y' - y| <= 1 and |x' - x| <= 1, other than itself unless `self_loops` (border nodes have fewer).
/// Writes row_ptr[num_graphs * H * W + 1] and col_idx[grid_graph_edges(...)]. Refuses (writing nothing)
/// null pointers, height or width < 1 (kTooFewNodes), num_graphs < 0 (kBadGraphPtr), H * W > kKnnMaxNodes,
/// and 2^31 or more entries (kTooManyEdges).
KnnStatus grid_graph(int32_t height, int32_t width, int32_t num_graphs, bool self_loops, int32_t* row_ptr,
                     int32_t* col_idx);

// ---------------------------------------------------------------------------------------------------
// Float (FP32) kernels: the float path, same semantics with float arithmetic, sums in index order.
// ---------------------------------------------------------------------------------------------------

/// Float aggregation. self_weight is (1 + eps) for GIN's kSum, 0 otherwise. kGcn uses 1/sqrtf(d) factors.
/// Order: neighbours in CSR order, then the self term (kSum: + self_weight * x_i when self_weight != 0;
/// kGcn: (sum_j x_j n_j + x_i n_i) * n_i); kMean divides the sum by the degree.
void aggregate_f32(const CsrGraph& graph, AggregateMode mode, const float* in, int32_t cols,
                   float self_weight, float* out, int32_t row_begin, int32_t row_end);

/// Float dense: out = in W^T + bias [+ extra_in W_extra^T] then ReLU if `relu`. bias/extra may be null.
/// Each accumulator starts at its bias (or 0) and adds products in index order; the extra accumulator is
/// added to the main one at the end.
struct DenseExtraInputF32 {
  const float* in;
  int32_t in_cols;
  const float* weights;
  const float* bias;
};
void dense_f32(const float* in, int32_t in_cols, const float* weights, const float* bias,
               const DenseExtraInputF32* extra, bool relu, float* out, int32_t out_cols, int32_t row_begin,
               int32_t row_end);

/// Float Dense of sparse rows (the float twin of sparse_dense; `in` as there): for row i and channel c,
///   acc = bias[c] (or 0) + values[e] * w[c][col_idx[e]] for e in row i's non-zeros, in order;
///   out[i][c] = relu && acc < 0 ? 0 : acc.
/// `weights` [out_cols][in_cols] as dense_f32. `packed`: the operand sparse_dense_f32_pack wrote from these
/// weights (W^T, so a non-zero's column is one contiguous row), which the SIMD twins read; the reference and
/// a twin handed null or a foreign operand read `weights`. The twins vectorise over channels and may fuse
/// multiply and add, so they match the reference to rounding (tests/kernels state the bound), not bit for bit.
void sparse_dense_f32(SparseRows in, int32_t in_cols, const float* weights, const void* packed,
                      const float* bias, bool relu, float* out, int32_t out_cols, int32_t row_begin,
                      int32_t row_end);
/// Bytes of sparse_dense_f32_pack's operand (one layout for every ISA; 0 for an empty shape).
size_t sparse_dense_f32_packed_bytes(int32_t in_cols, int32_t out_cols);
/// Writes the operand (16-byte aligned `packed`); `weights` must stay valid and unchanged while it is used.
void sparse_dense_f32_pack(const float* weights, int32_t in_cols, int32_t out_cols, void* packed);

/// Entries past the returned count that gather_nonzeros_f32 may write (its twins store whole vectors).
constexpr int32_t kGatherSlack = 16;
/// The non-zeros of float rows [0, rows) of `in` (`cols` floats each) as CSR, for the runtime's density probe
/// of dense input: row_ptr[0..rows] and, in row-major order, col_idx / values of every element other than
/// 0.0 and -0.0 (NaN and infinities count as non-zero: they are kept, not judged). Returns the number
/// gathered, or -1 as soon as it exceeds `max_nnz` (the arrays then hold garbage). col_idx and values need
/// room for max_nnz + kGatherSlack entries; row_ptr for rows + 1. Twins give the same return value and the
/// same entries [0, n) (their slack entries differ).
int64_t gather_nonzeros_f32(const float* in, int32_t cols, int32_t rows, int64_t max_nnz, int32_t* row_ptr,
                            int32_t* col_idx, float* values);

/// Float global pooling (empty graph gives 0).
void global_pool_f32(const int32_t* graph_ptr, AggregateMode mode, const float* in, int32_t cols, float* out,
                     int32_t graph_begin, int32_t graph_end);

/// Index of the largest element of each float row (the first on ties; -1 when cols == 0).
void argmax_rows_f32(const float* in, int32_t cols, int32_t* out, int32_t row_begin, int32_t row_end);

}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_REFERENCE_H_
