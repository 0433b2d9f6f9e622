// Statistics of one activation and the range methods that read them (calibration.h).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "qgnn/converter/calibration.h"

namespace qgnn {
namespace converter {
namespace {

// splitmix64: a tiny generator with a fixed, platform-independent sequence (std:: distributions differ
// between standard libraries, which would make subsampled ranges depend on the toolchain).
uint64_t next_random(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform integer in [0, bound) from 53 random bits; exact enough for any count a calibration reaches.
uint64_t random_below(uint64_t* state, uint64_t bound) {
  const double u = static_cast<double>(next_random(state) >> 11) * (1.0 / 9007199254740992.0);
  const uint64_t j = static_cast<uint64_t>(u * static_cast<double>(bound));
  return j < bound ? j : bound - 1;
}

// numpy.percentile's default ("linear"): rank p / 100 * (n - 1) between the two nearest sorted values.
double sorted_percentile(const std::vector<float>& sorted, double p) {
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = rank - static_cast<double>(lo);
  const double a = sorted[lo];
  const double b = sorted[hi];
  return a + (b - a) * frac;
}

// Ascending sort of finite floats by LSD radix sort (3 passes of 11 bits) on order-preserving integer keys:
// linear time, where std::sort of the 10^7-value samples of a large graph takes seconds.
void radix_sort(std::vector<float>* values) {
  const size_t n = values->size();
  if (n < (size_t{1} << 16)) {
    std::sort(values->begin(), values->end());
    return;
  }
  std::vector<uint32_t> keys(n), scratch(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, &(*values)[i], sizeof u);
    keys[i] = (u & 0x80000000u) != 0 ? ~u : (u | 0x80000000u);  // negatives reversed, below positives
  }
  for (int shift = 0; shift < 32; shift += 11) {
    std::vector<size_t> offsets(2049, 0);
    for (uint32_t k : keys) ++offsets[((k >> shift) & 2047u) + 1];
    for (size_t d = 1; d < offsets.size(); ++d) offsets[d] += offsets[d - 1];
    for (uint32_t k : keys) scratch[offsets[(k >> shift) & 2047u]++] = k;
    keys.swap(scratch);
  }
  for (size_t i = 0; i < n; ++i) {
    const uint32_t k = keys[i];
    const uint32_t u = (k & 0x80000000u) != 0 ? (k & 0x7FFFFFFFu) : ~k;
    std::memcpy(&(*values)[i], &u, sizeof u);
  }
}

}  // namespace

const char* range_method_name(RangeMethod method) {
  switch (method) {
    case RangeMethod::kPercentile:
      return "percentile";
    case RangeMethod::kPauta:
      return "pauta";
    case RangeMethod::kMinMax:
      break;
  }
  return "minmax";
}

Result<bool> parse_range_method(const std::string& name, RangeMethod* out) {
  for (RangeMethod m : {RangeMethod::kMinMax, RangeMethod::kPercentile, RangeMethod::kPauta}) {
    if (name == range_method_name(m)) {
      *out = m;
      return Result<bool>{true, ""};
    }
  }
  return Result<bool>::failure("unknown range method '" + name + "' (one of minmax, percentile, pauta)");
}

Result<bool> validate_range_options(const RangeOptions& options) {
  using R = Result<bool>;
  if (!(options.sigma == 0.0 || (std::isfinite(options.sigma) && options.sigma > 0.0))) {
    return R::failure(
        "the Pauta sigma multiplier must be finite and > 0 (or 0 for the default by bits), got " +
        std::to_string(options.sigma));
  }
  const double p = options.percentile;
  if (!(p == 0.0 || (p > 50.0 && p <= 100.0))) {
    return R::failure("the percentile must be in (50, 100] (or 0 for the default by bits), got " +
                      std::to_string(p));
  }
  return R{true, ""};
}

double effective_percentile(const RangeOptions& options, int bits) {
  if (options.percentile != 0.0) return options.percentile;
  return bits >= 8 ? 99.9 : 99.0;  // Degree-Quant's, as python/qgnn/qat/observers.py DEFAULT_PERCENTILES
}

double effective_sigma(const RangeOptions& options, int bits) {
  if (options.sigma != 0.0) return options.sigma;
  return bits >= 8 ? 5.0 : 3.0;  // python/qgnn/qat/observers.py DEFAULT_PAUTA_K
}

double ActivationStats::std_dev() const {
  return count == 0 ? 0.0 : std::sqrt(std::max(0.0, m2 / static_cast<double>(count)));
}

void observe_values(ActivationStats* stats, const float* values, size_t count, size_t sample_cap) {
  if (count == 0) return;
  const Eigen::Map<const Eigen::ArrayXf> v(values, static_cast<Eigen::Index>(count));
  stats->min = std::min(stats->min, v.minCoeff());
  stats->max = std::max(stats->max, v.maxCoeff());
  // Mean and squared deviations of this block in double, merged with Chan et al.'s update: stable for
  // millions of values, where a running sum of squares would cancel catastrophically.
  // (Lazy expressions: no double copy of the block is materialised.)
  const double n_b = static_cast<double>(count);
  const double mean_b = v.cast<double>().sum() / n_b;
  const double m2_b = (v.cast<double>() - mean_b).square().sum();
  const double n_a = static_cast<double>(stats->count);
  const double delta = mean_b - stats->mean;
  stats->mean += delta * n_b / (n_a + n_b);
  stats->m2 += m2_b + delta * delta * n_a * n_b / (n_a + n_b);
  // The same over the non-zero values only (Pauta's statistics, see select_range).
  const auto nonzero = (v != 0.0f).cast<double>();
  const double nz_b = nonzero.sum();
  if (nz_b > 0) {
    const double nz_mean_b = v.cast<double>().sum() / nz_b;
    const double nz_m2_b = ((v.cast<double>() - nz_mean_b) * nonzero).square().sum();
    const double nz_a = static_cast<double>(stats->nonzero_count);
    const double nz_delta = nz_mean_b - stats->nonzero_mean;
    stats->nonzero_mean += nz_delta * nz_b / (nz_a + nz_b);
    stats->nonzero_m2 += nz_m2_b + nz_delta * nz_delta * nz_a * nz_b / (nz_a + nz_b);
  }

  // Reservoir sampling (Algorithm R) over the NON-ZERO values: zeros are counted (count - nonzero_count),
  // never sampled, since percentile ranges and the activation SQNR read only the non-zero values (0 is exact
  // in every range). Non-zero value number t (0-based, over the whole calibration set) replaces a random slot
  // with probability cap / (t + 1), so every non-zero value ends in the sample with equal probability.
  uint64_t t = stats->nonzero_count;
  for (size_t i = 0; i < count && sample_cap > 0; ++i) {
    const float x = values[i];
    if (x == 0.0f) continue;
    if (stats->sample.size() < sample_cap) {
      stats->sample.push_back(x);
    } else {
      const uint64_t j = random_below(&stats->rng_state, t + 1);
      if (j < sample_cap) stats->sample[static_cast<size_t>(j)] = x;
    }
    ++t;
  }
  stats->count += count;
  stats->nonzero_count += static_cast<uint64_t>(nz_b);
}

void finalize_statistics(ActivationStats* stats) { radix_sort(&stats->sample); }

ActivationRange select_range(const ActivationStats& stats, const RangeOptions& options, int bits) {
  ActivationRange r;
  if (stats.empty()) return r;
  // Every method's range contains 0 (the quantizer widens to it anyway): a tensor without a non-zero value
  // gives the degenerate range [0, 0], which the quantizer and the activation check handle, never [0, 1].
  r.min = std::min(stats.min, 0.0f);
  r.max = std::max(stats.max, 0.0f);
  switch (options.method) {
    case RangeMethod::kMinMax:
      break;
    case RangeMethod::kPercentile: {
      // Over the non-zero values, then widened to 0: on a bag-of-words input at 1 % density the percentiles
      // of all values are both 0, which would collapse the range and round every feature away.
      if (stats.sample.empty()) break;
      const double p = effective_percentile(options, bits);
      const std::vector<float>* sorted = &stats.sample;
      std::vector<float> copy;
      if (!std::is_sorted(stats.sample.begin(), stats.sample.end())) {
        copy = stats.sample;
        std::sort(copy.begin(), copy.end());
        sorted = &copy;
      }
      // Both percentiles lie in [min, max]: rounding a double between two floats to float stays there.
      r.min = std::min(static_cast<float>(sorted_percentile(*sorted, 100.0 - p)), 0.0f);
      r.max = std::max(static_cast<float>(sorted_percentile(*sorted, p)), 0.0f);
      break;
    }
    case RangeMethod::kPauta: {
      // Over the non-zero values: 0 is exact whatever the range (it always contains 0), and a point mass at 0
      // (ReLU outputs, sparse bag-of-words features) would shrink sigma and clip the informative tail.
      // The range itself is left as it always was (not widened here): the quantizer widens it to 0.
      r.min = stats.min;
      r.max = stats.max;
      if (stats.nonzero_count == 0) break;
      const double sigma =
          std::sqrt(std::max(0.0, stats.nonzero_m2 / static_cast<double>(stats.nonzero_count)));
      const double k_sigma = effective_sigma(options, bits) * sigma;
      r.min = static_cast<float>(std::max(stats.nonzero_mean - k_sigma, static_cast<double>(stats.min)));
      r.max = static_cast<float>(std::min(stats.nonzero_mean + k_sigma, static_cast<double>(stats.max)));
      break;
    }
  }
  return r;
}

}  // namespace converter
}  // namespace qgnn
