#include "qgnn/converter/pareto_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace qgnn {
namespace converter {
namespace {

// Canvas and plot area, in SVG user units.
constexpr double kWidth = 760, kHeight = 460;
constexpr double kLeft = 80, kRight = 730, kTop = 70, kBottom = 395;

std::string escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string fmt(const char* format, double v) {
  char text[64];
  std::snprintf(text, sizeof(text), format, v);
  return text;
}

std::string coord(double v) { return fmt("%.1f", v); }

// Decimal units, so the 1-2-5 ticks read as round numbers.
std::string byte_label(double bytes) {
  if (bytes >= 1e6) return fmt("%g MB", bytes / 1e6);
  if (bytes >= 1e3) return fmt("%g kB", bytes / 1e3);
  return fmt("%g B", bytes);
}

struct Axes {
  double x_lo, x_hi;  // log10 of bytes
  double y_lo, y_hi;  // accuracy in percent
  double x(double bytes) const {
    return kLeft + (std::log10(std::max(bytes, 1.0)) - x_lo) / (x_hi - x_lo) * (kRight - kLeft);
  }
  double y(double percent) const { return kBottom - (percent - y_lo) / (y_hi - y_lo) * (kBottom - kTop); }
};

Axes make_axes(const AutoBitsResult& r, double threshold) {
  double bmin = static_cast<double>(r.float_reference.total_bytes()), bmax = bmin;
  double amin = 100.0 * r.float_reference.accuracy, amax = amin;
  for (const Candidate& c : r.explored) {
    bmin = std::min(bmin, static_cast<double>(c.total_bytes()));
    bmax = std::max(bmax, static_cast<double>(c.total_bytes()));
    amin = std::min(amin, 100.0 * c.accuracy);
    amax = std::max(amax, 100.0 * c.accuracy);
  }
  if (r.budget_mode) {
    bmin = std::min(bmin, static_cast<double>(r.budget_bytes));
    bmax = std::max(bmax, static_cast<double>(r.budget_bytes));
  } else {
    amin = std::min(amin, threshold);
  }
  Axes a;
  a.x_lo = std::log10(std::max(bmin, 1.0) * 0.8);
  a.x_hi = std::log10(std::max(bmax, 1.0) * 1.25);
  const double pad = std::max(1.0, 0.08 * (amax - amin));
  a.y_lo = std::max(0.0, amin - pad);
  a.y_hi = std::min(100.0, amax + pad);
  if (a.y_hi - a.y_lo < 1.0) a.y_lo = a.y_hi - 1.0;
  return a;
}

std::vector<double> x_ticks(const Axes& a) {
  // Mantissas per decade, coarse to fine: the coarsest set with enough ticks (or at most 10) wins, so a
  // range of many decades shows powers of ten and a range under one decade still gets several ticks.
  const std::vector<std::vector<double>> sets = {{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
  std::vector<double> ticks;
  for (const std::vector<double>& mantissas : sets) {
    std::vector<double> candidate;
    for (int e = static_cast<int>(std::floor(a.x_lo)); e <= static_cast<int>(std::ceil(a.x_hi)); ++e) {
      for (const double m : mantissas) {
        const double v = m * std::pow(10.0, e);
        if (std::log10(v) >= a.x_lo && std::log10(v) <= a.x_hi) candidate.push_back(v);
      }
    }
    if (candidate.size() > 10 && !ticks.empty()) break;
    ticks = candidate;
    if (ticks.size() >= 4) break;
  }
  if (ticks.size() < 2) ticks = {std::pow(10.0, a.x_lo), std::pow(10.0, a.x_hi)};
  return ticks;
}

std::vector<double> y_ticks(const Axes& a) {
  double step = 0.1;
  for (const double s : {0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 25.0}) {
    step = s;
    if ((a.y_hi - a.y_lo) / s <= 8) break;
  }
  std::vector<double> ticks;
  for (double v = std::ceil(a.y_lo / step) * step; v <= a.y_hi + 1e-9; v += step) ticks.push_back(v);
  return ticks;
}

std::string text(double x, double y, const std::string& anchor, const std::string& body,
                 const std::string& extra = "") {
  return "<text x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" text-anchor=\"" + anchor + "\"" + extra + ">" +
         escaped(body) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + coord(x1) + "\" y1=\"" + coord(y1) + "\" x2=\"" + coord(x2) + "\" y2=\"" +
         coord(y2) + "\" " + style + "/>\n";
}

std::string point_title(const Candidate& c) {
  return c.label + ": " + std::to_string(c.total_bytes()) + " B (model " + std::to_string(c.model_bytes) +
         " + arena " + std::to_string(c.arena_bytes) + "), " + fmt("%.2f %%", 100.0 * c.accuracy);
}

}  // namespace

std::string pareto_svg(const AutoBitsResult& r, const std::string& title) {
  const double threshold = 100.0 * r.float_reference.accuracy - r.max_drop_points;
  const Axes a = make_axes(r, threshold);
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + coord(kWidth) + "\" height=\"" +
                  coord(kHeight) + "\" viewBox=\"0 0 " + coord(kWidth) + " " + coord(kHeight) +
                  "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += text(kWidth / 2, 26, "middle", title, " font-size=\"15\" font-weight=\"bold\"");

  // Grid, ticks and axes.
  for (const double v : x_ticks(a)) {
    const double x = a.x(v);
    s += line(x, kTop, x, kBottom, "stroke=\"#e4e4e4\"");
    s += text(x, kBottom + 18, "middle", byte_label(v));
  }
  for (const double v : y_ticks(a)) {
    const double y = a.y(v);
    s += line(kLeft, y, kRight, y, "stroke=\"#e4e4e4\"");
    s += text(kLeft - 8, y + 4, "end", fmt("%g", v));
  }
  s += "<rect x=\"" + coord(kLeft) + "\" y=\"" + coord(kTop) + "\" width=\"" + coord(kRight - kLeft) +
       "\" height=\"" + coord(kBottom - kTop) + "\" fill=\"none\" stroke=\"#333\"/>\n";
  s += text((kLeft + kRight) / 2, kBottom + 42, "middle", "total bytes (model file + arena), log scale");
  s += text(22, (kTop + kBottom) / 2, "middle", "accuracy (%)",
            " transform=\"rotate(-90 22 " + coord((kTop + kBottom) / 2) + ")\"");

  // The constraint.
  const std::string dashed = "stroke=\"#c62828\" stroke-dasharray=\"6 4\"";
  if (r.budget_mode) {
    const double x = a.x(static_cast<double>(r.budget_bytes));
    s += line(x, kTop, x, kBottom, "class=\"budget\" " + dashed);
    s += text(x - 4, kTop + 14, "end", "budget " + byte_label(static_cast<double>(r.budget_bytes)),
              " fill=\"#c62828\"");
  } else {
    const double y = a.y(threshold);
    s += line(kLeft, y, kRight, y, "class=\"threshold\" " + dashed);
    // Below the line at the right: the corner of large, inaccurate models, where points are rare.
    s += text(kRight - 4, y + 15, "end", "float - " + fmt("%g", r.max_drop_points) + " pts",
              " fill=\"#c62828\"");
  }

  // Pareto front, then every explored point on top of it.
  std::string front;
  for (const size_t i : r.pareto) {
    if (i >= r.explored.size()) continue;
    front += coord(a.x(static_cast<double>(r.explored[i].total_bytes()))) + "," +
             coord(a.y(100.0 * r.explored[i].accuracy)) + " ";
  }
  s += "<polyline class=\"pareto\" points=\"" + front +
       "\" fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\"/>\n";
  for (size_t i = 0; i < r.explored.size(); ++i) {
    const Candidate& c = r.explored[i];
    const bool on_front = std::find(r.pareto.begin(), r.pareto.end(), i) != r.pareto.end();
    s += "<circle class=\"explored\" cx=\"" + coord(a.x(static_cast<double>(c.total_bytes()))) + "\" cy=\"" +
         coord(a.y(100.0 * c.accuracy)) + "\" r=\"4\" fill=\"" + (on_front ? "#1565c0" : "#9e9e9e") +
         "\" fill-opacity=\"0.8\"><title>" + escaped(point_title(c)) + "</title></circle>\n";
  }

  // Float reference: a diamond.
  const Candidate& f = r.float_reference;
  const double fx = a.x(static_cast<double>(f.total_bytes())), fy = a.y(100.0 * f.accuracy);
  s += "<polygon class=\"float\" points=\"" + coord(fx) + "," + coord(fy - 7) + " " + coord(fx + 7) + "," +
       coord(fy) + " " + coord(fx) + "," + coord(fy + 7) + " " + coord(fx - 7) + "," + coord(fy) +
       "\" fill=\"#ef6c00\"><title>" + escaped(point_title(f)) + "</title></polygon>\n";
  s += text(fx, fy - 11, "middle", "float32", " fill=\"#ef6c00\"");

  if (r.chosen < r.explored.size()) {
    const Candidate& c = r.explored[r.chosen];
    const double cx = a.x(static_cast<double>(c.total_bytes())), cy = a.y(100.0 * c.accuracy);
    s += "<circle class=\"chosen\" cx=\"" + coord(cx) + "\" cy=\"" + coord(cy) +
         "\" r=\"9\" fill=\"none\" stroke=\"#2e7d32\" stroke-width=\"2.5\"/>\n";
  }

  // Legend: one row between the title and the plot, where it cannot hide a point.
  const double ly = 50;
  double lx = kLeft + 6;
  s += "<circle cx=\"" + coord(lx) + "\" cy=\"" + coord(ly - 4) + "\" r=\"4\" fill=\"#9e9e9e\"/>\n";
  s += text(lx + 9, ly, "start", "explored (" + std::to_string(r.explored.size()) + ")");
  lx += 110;
  s += line(lx - 6, ly - 4, lx + 6, ly - 4, "stroke=\"#1565c0\" stroke-width=\"2\"");
  s += text(lx + 10, ly, "start", "Pareto front (" + std::to_string(r.pareto.size()) + ")");
  lx += 130;
  s += "<circle cx=\"" + coord(lx) + "\" cy=\"" + coord(ly - 4) +
       "\" r=\"6\" fill=\"none\" stroke=\"#2e7d32\" stroke-width=\"2.5\"/>\n";
  // The chosen point's numbers go in the legend: next to the point they would cover its neighbours.
  std::string chosen = "chosen";
  if (r.chosen < r.explored.size()) {
    const Candidate& c = r.explored[r.chosen];
    chosen +=
        ": " + byte_label(static_cast<double>(c.total_bytes())) + ", " + fmt("%.2f %%", 100.0 * c.accuracy);
  }
  s += text(lx + 10, ly, "start", chosen, " fill=\"#2e7d32\"");
  return s + "</svg>\n";
}

}  // namespace converter
}  // namespace qgnn
