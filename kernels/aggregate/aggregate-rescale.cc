// The per-row rescale of the aggregation and pooling twins (x86 and arm64), compiled WITHOUT ISA flags: it
// uses numerics.h's inline helpers, which must not be compiled with wider ISA flags (dispatch/twins.h).
#include "qgnn/kernels/numerics.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

MeanRescale aggregate_row_rescale(AggregateMode mode, Rescale rq, int32_t count) {
  if (mode == AggregateMode::kMean && count > 0) {
    return mean_rescale(rq.multiplier, rq.shift, static_cast<uint32_t>(count));
  }
  return MeanRescale{rq.multiplier, rq.shift};
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
