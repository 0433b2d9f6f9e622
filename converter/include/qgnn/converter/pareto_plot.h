// Draws the result of the automatic bit selection (auto_bits.h) as a self-contained SVG for the docs.
#ifndef QGNN_CONVERTER_PARETO_PLOT_H_
#define QGNN_CONVERTER_PARETO_PLOT_H_

#include <string>

#include "qgnn/converter/auto_bits.h"

namespace qgnn {
namespace converter {

/// A self-contained SVG (no scripts, fonts or external references) of the explored points: x = total bytes
/// (model + arena, log scale), y = accuracy (%); the Pareto front as a line, the float reference, the
/// accuracy threshold (max-drop mode) or the budget line (budget mode), the chosen point highlighted, axis
/// ticks and labels. Each explored point is one `<circle class="explored">` with its label as tooltip.
std::string pareto_svg(const AutoBitsResult& result, const std::string& title);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_PARETO_PLOT_H_
