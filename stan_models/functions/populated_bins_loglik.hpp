// Fused Poisson log-likelihood over the populated (non-zero) bins of a binned
// template fit, with its analytic gradient (docs/equations.md section 1):
//
//   L = sum_i d_i log m_i,   m_i = sum_k S_ik F_k + A_b(i) Bg_i,
//   dL/dF_k = sum_i (d_i / m_i) S_ik,   dL/dA_b = sum_{i in b} (d_i / m_i) Bg_i.
//
// The bins are sorted by background block; block b holds bins
// block_start[b] .. block_start[b + 1] - 1 (1-based, block_start has B + 1 entries,
// the last equal to N + 1).  The linear term -sum m over all bins (zeros included) is
// left to the Stan program, which has it from precomputed totals.
//
// How it is computed: the bins are cut into chunks of `chunk_size` consecutive bins
// (default 8192), each chunk into tiles of at most 512 bins inside one block.  For a
// tile, m = A_b Bg + sum_k F_k S_k, sum d log m, r = d / m into a stack buffer (it
// stays in the L1 cache) and the dot products r.S_k and r.Bg.  On x86-64 CPUs with
// AVX2 and FMA (checked at run time, so the default build without -march has it too)
// a tile is one pass of 4-wide AVX2 instructions with its own vectorised log (fdlibm's
// algorithm, within 1 ulp); elsewhere, or with BAYESBG_PORTABLE_LIKELIHOOD=1 in the
// environment, Eigen's array code at the compiler's target.  Nothing of size N is
// allocated; the data are read in place (Stan passes its matrix and vectors by
// reference, S column-major so S_k is contiguous).
// Each chunk's sums go to its own slot and are added in chunk order, so the result does
// not depend on the number of threads: with STAN_THREADS the chunks run in parallel
// (tbb::parallel_for in the chain's TBB arena, i.e. threads_per_chain threads), without
// it one after the other, bit for bit the same.  The gradient is kept for the reverse
// sweep (make_callback_var) instead of Stan's tape of one node per bin and operation.
//
// Use from a Stan program compiled with --allow-undefined and this file as USER_HEADER:
//
//   functions {
//     real populated_bins_loglik(vector flux, vector amplitude, data vector counts,
//                                data matrix sky_response, data vector background,
//                                data array[] int block_start);
//     real populated_bins_loglik_chunked(vector flux, vector amplitude,
//                                        data vector counts, data matrix sky_response,
//                                        data vector background,
//                                        data array[] int block_start,
//                                        data int chunk_size);
//     vector populated_bins_loglik_per_time(vector flux, vector amplitude,
//                                           data vector counts, data matrix sky_response,
//                                           data vector background,
//                                           data array[] int block_start,
//                                           data array[] int nonzero_per_time);
//   }
//
// (chunk_size <= 0: the default.)  populated_bins_loglik_per_time is for generated
// quantities (double parameters only, no autodiff): sum_{i in t} d_i log m_i for every
// time bin t, whose populated bins are the next nonzero_per_time[t] bins; one pass over
// the same columns, in tiles, time bins in parallel with STAN_THREADS.  It does not
// throw: m <= 0 gives -inf or NaN there, as log(m) does in the Stan expression.
// populated_bins_loglik(_chunked) likewise returns -inf if some m = 0 and NaN if some m
// is NaN (the sampler rejects such a point quietly, as with the Stan expression); only
// m < 0 raises a domain error.
//
// Segment-scaled sibling (the forward-folded spectral fit, docs/cosi_spectral.md):
//
//   L = sum_i d_i log m_i,   m_i = g_s(i) P_i + A_b(s(i)) Bg_i,
//   dL/dg_s = sum_{i in s} (d_i / m_i) P_i,   dL/dA_b = sum_{s in b} sum_{i in s} (d_i / m_i) Bg_i,
//
// where the bins are grouped in segments s (a measured-energy band and time bin, say)
// with one sky scale g_s (the expected source counts of the segment) and one background
// block b(s) each; P_i is the fraction of a segment's source counts in bin i.  Bins of
// segment s are segment_start[s] .. segment_start[s + 1] - 1 (1-based, S + 1 entries,
// the last N + 1); segment_block[s] in 1..B.  The same tiles as above (K = 1); chunks of
// whole segments of about chunk_size bins run in parallel with STAN_THREADS; per-segment
// sums are added in segment order, so the result does not depend on the threads.
//
//     real segment_scaled_loglik_chunked(vector scale, vector amplitude,
//                                        data vector counts, data vector sky,
//                                        data vector background,
//                                        data array[] int segment_start,
//                                        data array[] int segment_block,
//                                        data int chunk_size);
//     vector segment_scaled_loglik_per_segment(vector scale, vector amplitude,
//                                              data vector counts, data vector sky,
//                                              data vector background,
//                                              data array[] int segment_start,
//                                              data array[] int segment_block);
//
// (the second for generated quantities: sum_{i in s} d_i log m_i per segment, doubles.)
// Adding these left the functions above and their results unchanged.
//
// Defined in the global namespace, which encloses every
// model's namespace, so one header serves every program.  bayesbg's own code.
#ifndef BAYESBG_POPULATED_BINS_LOGLIK_HPP
#define BAYESBG_POPULATED_BINS_LOGLIK_HPP

#include <stan/model/model_header.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <ostream>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BAYESBG_POPULATED_BINS_AVX2 1
#include <immintrin.h>
#endif

#ifdef STAN_THREADS
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#endif

namespace bayesbg_populated_bins {

inline constexpr Eigen::Index default_chunk_size = 8192;
inline constexpr Eigen::Index tile_size = 512;

/// Data of one evaluation, read in place.
struct problem {
  const double* counts;        // d, N
  const double* sky;           // S, N x K column-major, leading dimension sky_stride
  Eigen::Index sky_stride;
  const double* background;    // Bg, N
  const std::vector<int>* block_start;
  Eigen::Index n_bins;
  Eigen::Index n_templates;
  Eigen::Index n_blocks;
};

/// One tile: bins [position, position + n), n <= tile_size, all in one block, with
/// the portable Eigen code (Eigen's vectorised log at the compiler's default target).
/// Adds sum d log m to loglik and, if gradient, sum r S_k to grad_flux[k] and sum r Bg
/// to grad_amplitude.  Returns false if some m <= 0 (or NaN), with it in bad_value.
template <bool gradient>
inline bool tile_portable(const problem& p, const double* flux, double amplitude,
                          Eigen::Index position, Eigen::Index n, double* buffer,
                          double& loglik, double* grad_flux, double& grad_amplitude,
                          double& bad_value) {
  using Array = Eigen::Array<double, Eigen::Dynamic, 1>;
  using ConstMap = Eigen::Map<const Array>;
  Eigen::Map<Array> m(buffer, n);
  const ConstMap d(p.counts + position, n);
  const ConstMap bg(p.background + position, n);
  m = amplitude * bg;
  for (Eigen::Index k = 0; k < p.n_templates; ++k)
    m += flux[k] * ConstMap(p.sky + k * p.sky_stride + position, n);
  const double smallest = m.minCoeff();
  if (!(smallest > 0)) {
    bad_value = smallest;
    return false;
  }
  loglik += (d * m.log()).sum();
  if constexpr (gradient) {
    m = d / m;  // r
    for (Eigen::Index k = 0; k < p.n_templates; ++k)
      grad_flux[k] += (m * ConstMap(p.sky + k * p.sky_stride + position, n)).sum();
    grad_amplitude += (m * bg).sum();
  }
  return true;
}

#ifdef BAYESBG_POPULATED_BINS_AVX2
// The same tile with AVX2 + FMA instructions, chosen at run time (see use_avx2), so a
// default build (no -march) runs it on any x86-64 CPU that has them.  It takes raw
// pointers and no Eigen objects: only these functions are compiled for the AVX2
// target, so nothing of a different alignment crosses into the rest of the program.

/// Natural log of four positive, normal, finite doubles (the caller checks).  The
/// reduction and polynomial of fdlibm's e_log.c (Sun Microsystems, 1993): x = 2^k z
/// with z in [sqrt(2)/2, sqrt(2)), f = z - 1, s = f / (2 + f),
/// log z = f - f^2/2 + s (f^2/2 + R(s^2)) with R a degree-14 even polynomial, and
/// k log 2 in two parts.  Error within 1 ulp of the correctly rounded log (checked
/// against std::log by tests/stan_functions/test_populated_bins_loglik.py).
__attribute__((target("avx2,fma"))) inline __m256d log_avx2(__m256d x) {
  // Adding 0x3ff00000 - 0x3fe6a09e to the high word moves z into [sqrt(2)/2, sqrt(2)).
  const __m256i bits = _mm256_add_epi64(_mm256_castpd_si256(x),
                                        _mm256_set1_epi64x(0x00095f6200000000LL));
  // k = exponent - 1023, converted exactly through the 2^52 trick (|k| < 2^11).
  const __m256i exponent = _mm256_srli_epi64(bits, 52);
  const __m256d k = _mm256_sub_pd(
      _mm256_castsi256_pd(
          _mm256_or_si256(exponent, _mm256_set1_epi64x(0x4330000000000000LL))),
      _mm256_set1_pd(4503599627370496.0 + 1023.0));
  const __m256d z = _mm256_castsi256_pd(
      _mm256_add_epi64(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL)),
                       _mm256_set1_epi64x(0x3fe6a09e00000000LL)));
  const __m256d f = _mm256_sub_pd(z, _mm256_set1_pd(1.0));
  const __m256d half_f2 = _mm256_mul_pd(_mm256_set1_pd(0.5), _mm256_mul_pd(f, f));
  const __m256d s = _mm256_div_pd(f, _mm256_add_pd(_mm256_set1_pd(2.0), f));
  const __m256d s2 = _mm256_mul_pd(s, s);
  const __m256d s4 = _mm256_mul_pd(s2, s2);
  const __m256d even = _mm256_mul_pd(
      s4, _mm256_fmadd_pd(s4,
                          _mm256_fmadd_pd(s4, _mm256_set1_pd(1.531383769920937332e-01),
                                          _mm256_set1_pd(2.222219843214978396e-01)),
                          _mm256_set1_pd(3.999999999940941908e-01)));
  const __m256d odd = _mm256_mul_pd(
      s2, _mm256_fmadd_pd(
              s4,
              _mm256_fmadd_pd(s4,
                              _mm256_fmadd_pd(s4, _mm256_set1_pd(1.479819860511658591e-01),
                                              _mm256_set1_pd(1.818357216161805012e-01)),
                              _mm256_set1_pd(2.857142874366239149e-01)),
              _mm256_set1_pd(6.666666666666735130e-01)));
  const __m256d polynomial = _mm256_add_pd(even, odd);
  __m256d y = _mm256_fmadd_pd(s, _mm256_add_pd(half_f2, polynomial),
                              _mm256_mul_pd(k, _mm256_set1_pd(1.90821492927058770002e-10)));
  y = _mm256_add_pd(_mm256_sub_pd(y, half_f2), f);
  return _mm256_fmadd_pd(k, _mm256_set1_pd(6.93147180369123816490e-01), y);
}

/// Sum of the four lanes, in a fixed order.
__attribute__((target("avx2,fma"))) inline double sum_lanes(__m256d x) {
  alignas(32) double lane[4];
  _mm256_store_pd(lane, x);
  return (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

/// tile_portable with AVX2: returns false without changing anything if some m is not
/// a positive normal finite double (the caller then redoes the tile portably, which
/// handles subnormal or infinite m through std::log and flags m <= 0 or NaN).
/// Lanes past n (the last vector) are padded with m = 1, d = 0, so they add nothing.
/// single_template: K = 1 known at compile time (the common case; no loop over k).
template <bool gradient, bool single_template>
__attribute__((target("avx2,fma"))) inline bool tile_avx2_impl(
    const problem& p, const double* flux, double amplitude, Eigen::Index position,
    Eigen::Index n, double* buffer, double& loglik, double* grad_flux,
    double& grad_amplitude) {
  const double* d = p.counts + position;
  const double* bg = p.background + position;
  const Eigen::Index n_templates = p.n_templates;
  const __m256d a = _mm256_set1_pd(amplitude);
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d smallest_normal = _mm256_set1_pd(2.2250738585072014e-308);
  const __m256d largest = _mm256_set1_pd(1.7976931348623157e308);
  const Eigen::Index full = n & ~Eigen::Index(3);
  const Eigen::Index rest = n - full;
  const __m256i tail_mask = _mm256_set_epi64x(rest > 3 ? -1 : 0, rest > 2 ? -1 : 0,
                                              rest > 1 ? -1 : 0, rest > 0 ? -1 : 0);
  __m256d sum = _mm256_setzero_pd();
  __m256d sum_r_bg = _mm256_setzero_pd();
  __m256d out_of_range = _mm256_setzero_pd();
  auto step = [&](Eigen::Index i, bool tail) __attribute__((target("avx2,fma"))) {
    const __m256d bg_i = tail ? _mm256_maskload_pd(bg + i, tail_mask) : _mm256_loadu_pd(bg + i);
    const __m256d d_i = tail ? _mm256_maskload_pd(d + i, tail_mask) : _mm256_loadu_pd(d + i);
    __m256d m = _mm256_mul_pd(a, bg_i);
    for (Eigen::Index k = 0; k < (single_template ? 1 : n_templates); ++k) {
      const double* sky = p.sky + k * p.sky_stride + position + i;
      m = _mm256_fmadd_pd(_mm256_set1_pd(flux[k]),
                          tail ? _mm256_maskload_pd(sky, tail_mask) : _mm256_loadu_pd(sky),
                          m);
    }
    if (tail) m = _mm256_blendv_pd(one, m, _mm256_castsi256_pd(tail_mask));
    out_of_range = _mm256_or_pd(
        out_of_range, _mm256_or_pd(_mm256_cmp_pd(m, smallest_normal, _CMP_NGE_UQ),
                                   _mm256_cmp_pd(m, largest, _CMP_NLE_UQ)));
    sum = _mm256_fmadd_pd(d_i, log_avx2(m), sum);
    if constexpr (gradient) {
      const __m256d r = _mm256_div_pd(d_i, m);
      sum_r_bg = _mm256_fmadd_pd(r, bg_i, sum_r_bg);
      _mm256_store_pd(buffer + i, r);
    }
  };
  Eigen::Index i = 0;
  for (; i + 8 <= full; i += 8) {
    step(i, false);
    step(i + 4, false);
  }
  if (i < full) step(i, false);
  if (rest) step(full, true);
  if (_mm256_movemask_pd(out_of_range)) return false;
  loglik += sum_lanes(sum);
  if constexpr (gradient) {
    grad_amplitude += sum_lanes(sum_r_bg);
    for (Eigen::Index k = 0; k < p.n_templates; ++k) {
      const double* sky = p.sky + k * p.sky_stride + position;
      __m256d dot = _mm256_setzero_pd();
      for (Eigen::Index j = 0; j < full; j += 4)
        dot = _mm256_fmadd_pd(_mm256_load_pd(buffer + j), _mm256_loadu_pd(sky + j), dot);
      if (rest)  // r = 0 in the padding lanes
        dot = _mm256_fmadd_pd(_mm256_load_pd(buffer + full),
                              _mm256_maskload_pd(sky + full, tail_mask), dot);
      grad_flux[k] += sum_lanes(dot);
    }
  }
  return true;
}

/// tile_avx2_impl for the number of templates.
template <bool gradient>
__attribute__((target("avx2,fma"))) inline bool tile_avx2(
    const problem& p, const double* flux, double amplitude, Eigen::Index position,
    Eigen::Index n, double* buffer, double& loglik, double* grad_flux,
    double& grad_amplitude) {
  if (p.n_templates == 1)
    return tile_avx2_impl<gradient, true>(p, flux, amplitude, position, n, buffer, loglik,
                                          grad_flux, grad_amplitude);
  return tile_avx2_impl<gradient, false>(p, flux, amplitude, position, n, buffer, loglik,
                                         grad_flux, grad_amplitude);
}
#endif

/// Whether tiles run the AVX2 code: the CPU has AVX2 and FMA (asked once) and the
/// environment variable BAYESBG_PORTABLE_LIKELIHOOD is unset or empty.  The two paths
/// agree to rounding (about 1e-15 relative); set the variable to get the portable
/// path's bits on every machine.
inline bool use_avx2() {
#ifdef BAYESBG_POPULATED_BINS_AVX2
  static const bool chosen = [] {
    const char* portable = std::getenv("BAYESBG_PORTABLE_LIKELIHOOD");
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
           && (portable == nullptr || *portable == '\0');
  }();
  return chosen;
#else
  return false;
#endif
}

/// sum d log m when a tile flagged bad_value (some m <= 0 or NaN): -inf for m = 0 (a
/// likelihood of 0), NaN otherwise, as log(m) gives in the Stan expression.
inline double invalid_rate_loglik(double bad_value) {
  return bad_value == 0 ? -std::numeric_limits<double>::infinity()
                        : std::numeric_limits<double>::quiet_NaN();
}

/// One tile with the chosen code; false (with bad_value) if some m <= 0 or NaN.
template <bool gradient>
inline bool tile_sums(const problem& p, const double* flux, double amplitude,
                      Eigen::Index position, Eigen::Index n, double* buffer, bool avx2,
                      double& loglik, double* grad_flux, double& grad_amplitude,
                      double& bad_value) {
#ifdef BAYESBG_POPULATED_BINS_AVX2
  if (avx2 && tile_avx2<gradient>(p, flux, amplitude, position, n, buffer, loglik,
                                  grad_flux, grad_amplitude))
    return true;
#endif
  return tile_portable<gradient>(p, flux, amplitude, position, n, buffer, loglik,
                                 grad_flux, grad_amplitude, bad_value);
}

/// Sums over bins [begin, end): sum d log m into loglik; if gradient, sum r S_k into
/// grad_flux[k] and sum r Bg into grad_amplitude[b] (both zeroed by the caller).
/// Returns false if some m <= 0 (or NaN), with the offending value in bad_value.
template <bool gradient>
inline bool chunk_sums(const problem& p, const double* flux, const double* amplitude,
                       Eigen::Index begin, Eigen::Index end, bool avx2, double& loglik,
                       double* grad_flux, double* grad_amplitude, double& bad_value) {
  alignas(64) double buffer[tile_size];
  const std::vector<int>& block_start = *p.block_start;
  // Block of bin `begin` (0-based): the last b with block_start[b] - 1 <= begin.
  Eigen::Index b = std::upper_bound(block_start.begin(), block_start.end(),
                                    static_cast<int>(begin + 1))
                   - block_start.begin() - 1;
  double sum = 0.0;
  double unused = 0.0;
  Eigen::Index position = begin;
  while (position < end) {
    while (block_start[b + 1] - 1 <= position) ++b;  // skip ended (or empty) blocks
    const Eigen::Index stop = std::min<Eigen::Index>(
        {end, static_cast<Eigen::Index>(block_start[b + 1] - 1), position + tile_size});
    if (!tile_sums<gradient>(p, flux, amplitude[b], position, stop - position, buffer, avx2,
                             sum, grad_flux, gradient ? grad_amplitude[b] : unused,
                             bad_value))
      return false;
    position = stop;
  }
  loglik += sum;
  return true;
}

/// sum d log m over all bins and, if gradient, its gradient; chunks in parallel with
/// STAN_THREADS, added in chunk order either way.
template <bool gradient>
inline double evaluate(const problem& p, const Eigen::VectorXd& flux,
                       const Eigen::VectorXd& amplitude, Eigen::Index chunk_size,
                       Eigen::VectorXd& grad_flux, Eigen::VectorXd& grad_amplitude) {
  const Eigen::Index chunk = chunk_size > 0 ? chunk_size : default_chunk_size;
  const Eigen::Index n_chunks = std::max<Eigen::Index>(1, (p.n_bins + chunk - 1) / chunk);
  const Eigen::Index width = 1 + (gradient ? p.n_templates + p.n_blocks : 0);
  // Row c: loglik, grad_flux (K), grad_amplitude (B) of chunk c.
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> partial =
      Eigen::MatrixXd::Zero(n_chunks, width);
  std::vector<char> failed(n_chunks, 0);
  std::vector<double> bad(n_chunks, 0.0);
  const bool avx2 = use_avx2();
  auto run = [&](Eigen::Index c) {
    double* row = partial.row(c).data();
    const Eigen::Index begin = c * chunk;
    const Eigen::Index end = std::min(p.n_bins, begin + chunk);
    failed[c] = !chunk_sums<gradient>(p, flux.data(), amplitude.data(), begin, end, avx2,
                                      row[0], row + 1, row + 1 + p.n_templates, bad[c]);
  };
#ifdef STAN_THREADS
  if (n_chunks > 1) {
    tbb::parallel_for(tbb::blocked_range<Eigen::Index>(0, n_chunks, 1),
                      [&](const tbb::blocked_range<Eigen::Index>& range) {
                        for (Eigen::Index c = range.begin(); c < range.end(); ++c) run(c);
                      });
  } else {
    run(0);
  }
#else
  for (Eigen::Index c = 0; c < n_chunks; ++c) run(c);
#endif
  double loglik = 0.0;
  if constexpr (gradient) {
    grad_flux = Eigen::VectorXd::Zero(p.n_templates);
    grad_amplitude = Eigen::VectorXd::Zero(p.n_blocks);
  }
  // Some m <= 0 or NaN.  m = 0 (parameters that underflow to 0 early in warm-up) is a
  // likelihood of 0: -inf, as log(0) gives in the Stan expression; NaN (inf * 0) gives
  // NaN, as there.  Either makes the sampler reject the point without a message (the
  // gradient is left at 0).  m < 0 cannot come from non-negative parameters and data,
  // so it is reported.
  double invalid = 0.0;  // 0: all m > 0; else -inf or NaN (NaN wins)
  for (Eigen::Index c = 0; c < n_chunks; ++c) {
    if (!failed[c]) continue;
    if (bad[c] < 0)
      stan::math::throw_domain_error("populated_bins_loglik", "expected counts", bad[c],
                                     "must be non-negative in populated bins, found ");
    if (!std::isnan(invalid)) invalid = invalid_rate_loglik(bad[c]);
  }
  if (invalid != 0.0) return invalid;
  for (Eigen::Index c = 0; c < n_chunks; ++c) {  // fixed order: thread-count independent
    loglik += partial(c, 0);
    if constexpr (gradient) {
      for (Eigen::Index k = 0; k < p.n_templates; ++k) grad_flux[k] += partial(c, 1 + k);
      for (Eigen::Index b = 0; b < p.n_blocks; ++b)
        grad_amplitude[b] += partial(c, 1 + p.n_templates + b);
    }
  }
  return loglik;
}

}  // namespace bayesbg_populated_bins

template <typename TF, typename TA, typename TD, typename TS, typename TB>
inline stan::return_type_t<TF, TA> populated_bins_loglik_chunked(
    const TF& flux, const TA& amplitude, const TD& counts, const TS& sky_response,
    const TB& background, const std::vector<int>& block_start, int chunk_size,
    std::ostream* pstream__) {
  using stan::math::value_of;
  static constexpr const char* function = "populated_bins_loglik";
  const Eigen::Ref<const Eigen::VectorXd> d = counts;
  const Eigen::Ref<const Eigen::MatrixXd, 0, Eigen::OuterStride<>> S = sky_response;
  const Eigen::Ref<const Eigen::VectorXd> bg = background;
  const Eigen::VectorXd f = value_of(flux);
  const Eigen::VectorXd a = value_of(amplitude);
  const Eigen::Index n_bins = d.size();
  const Eigen::Index n_blocks = a.size();
  stan::math::check_size_match(function, "rows of sky_response", S.rows(), "counts", n_bins);
  stan::math::check_size_match(function, "columns of sky_response", S.cols(), "flux", f.size());
  stan::math::check_size_match(function, "background", bg.size(), "counts", n_bins);
  stan::math::check_size_match(function, "block_start", block_start.size(),
                               "amplitude + 1", n_blocks + 1);
  if (block_start.front() != 1 || block_start.back() != n_bins + 1)
    stan::math::throw_domain_error(function, "block_start", block_start.front(),
                                   "must run from 1 to N + 1, found first = ");
  for (Eigen::Index b = 0; b < n_blocks; ++b)
    if (block_start[b + 1] < block_start[b])
      stan::math::throw_domain_error(function, "block_start", block_start[b + 1],
                                     "must be non-decreasing, found ");
  const bayesbg_populated_bins::problem p{d.data(), S.data(), S.outerStride(), bg.data(),
                                          &block_start, n_bins, S.cols(), n_blocks};

  using return_t = stan::return_type_t<TF, TA>;
  Eigen::VectorXd grad_f, grad_a;
  if constexpr (stan::is_constant<return_t>::value) {
    return bayesbg_populated_bins::evaluate<false>(p, f, a, chunk_size, grad_f, grad_a);
  } else {
    const double log_likelihood =
        bayesbg_populated_bins::evaluate<true>(p, f, a, chunk_size, grad_f, grad_a);
    stan::arena_t<Eigen::VectorXd> grad_flux = grad_f;
    stan::arena_t<Eigen::VectorXd> grad_amplitude = grad_a;
    auto flux_arena = stan::math::to_arena(flux);
    auto amplitude_arena = stan::math::to_arena(amplitude);
    return stan::math::make_callback_var(
        log_likelihood,
        [flux_arena, amplitude_arena, grad_flux, grad_amplitude](auto& result) mutable {
          if constexpr (!stan::is_constant<TF>::value)
            flux_arena.adj() += result.adj() * grad_flux;
          if constexpr (!stan::is_constant<TA>::value)
            amplitude_arena.adj() += result.adj() * grad_amplitude;
        });
  }
}

template <typename TF, typename TA, typename TD, typename TS, typename TB>
inline stan::return_type_t<TF, TA> populated_bins_loglik(
    const TF& flux, const TA& amplitude, const TD& counts, const TS& sky_response,
    const TB& background, const std::vector<int>& block_start, std::ostream* pstream__) {
  return populated_bins_loglik_chunked(flux, amplitude, counts, sky_response, background,
                                       block_start, 0, pstream__);
}

namespace bayesbg_populated_bins {

/// sum d log m over the bins [begin, end), all in one block (double only); false
/// (with bad_value) if some m <= 0 or NaN.
inline bool segment_loglik(const problem& p, const double* flux, double amplitude,
                           Eigen::Index begin, Eigen::Index end, bool avx2, double& loglik,
                           double& bad_value) {
  alignas(64) double buffer[tile_size];
  double sum = 0.0;
  double unused = 0.0;
  for (Eigen::Index position = begin; position < end; position += tile_size) {
    const Eigen::Index n = std::min<Eigen::Index>(tile_size, end - position);
    if (!tile_sums<false>(p, flux, amplitude, position, n, buffer, avx2, sum, nullptr,
                          unused, bad_value))
      return false;
  }
  loglik = sum;
  return true;
}

}  // namespace bayesbg_populated_bins

/// Per time bin t: sum over its populated bins of d log m (generated quantities; double
/// parameters only).  Bins of time bin t follow those of t - 1 (nonzero_per_time[t] of
/// them); the blocks come from block_start (bins sorted by block, blocks contiguous in
/// time, so every time bin lies in one block).
template <typename TF, typename TA, typename TD, typename TS, typename TB>
inline Eigen::VectorXd populated_bins_loglik_per_time(
    const TF& flux, const TA& amplitude, const TD& counts, const TS& sky_response,
    const TB& background, const std::vector<int>& block_start,
    const std::vector<int>& nonzero_per_time, std::ostream* pstream__) {
  static_assert(stan::is_constant<stan::return_type_t<TF, TA>>::value,
                "populated_bins_loglik_per_time takes double parameters only "
                "(generated quantities); use populated_bins_loglik in the model block");
  static constexpr const char* function = "populated_bins_loglik_per_time";
  const Eigen::Ref<const Eigen::VectorXd> d = counts;
  const Eigen::Ref<const Eigen::MatrixXd, 0, Eigen::OuterStride<>> S = sky_response;
  const Eigen::Ref<const Eigen::VectorXd> bg = background;
  const Eigen::VectorXd f = stan::math::value_of(flux);
  const Eigen::VectorXd a = stan::math::value_of(amplitude);
  const Eigen::Index n_bins = d.size();
  const Eigen::Index n_blocks = a.size();
  const Eigen::Index n_time = static_cast<Eigen::Index>(nonzero_per_time.size());
  stan::math::check_size_match(function, "rows of sky_response", S.rows(), "counts", n_bins);
  stan::math::check_size_match(function, "columns of sky_response", S.cols(), "flux", f.size());
  stan::math::check_size_match(function, "background", bg.size(), "counts", n_bins);
  stan::math::check_size_match(function, "block_start", block_start.size(),
                               "amplitude + 1", n_blocks + 1);
  if (block_start.front() != 1 || block_start.back() != n_bins + 1)
    stan::math::throw_domain_error(function, "block_start", block_start.front(),
                                   "must run from 1 to N + 1, found first = ");
  // Start (0-based) and block of each time bin's populated bins.
  std::vector<Eigen::Index> start(n_time + 1, 0);
  std::vector<Eigen::Index> block(n_time, 0);
  Eigen::Index b = 0;
  for (Eigen::Index t = 0; t < n_time; ++t) {
    if (nonzero_per_time[t] < 0)
      stan::math::throw_domain_error(function, "nonzero_per_time", nonzero_per_time[t],
                                     "must be non-negative, found ");
    start[t + 1] = start[t] + nonzero_per_time[t];
    if (nonzero_per_time[t] == 0) continue;
    while (b < n_blocks && block_start[b + 1] - 1 <= start[t]) ++b;
    if (b >= n_blocks || block_start[b + 1] - 1 < start[t + 1])
      stan::math::throw_domain_error(function, "nonzero_per_time", nonzero_per_time[t],
                                     "must keep each time bin's bins inside one block, found ");
    block[t] = b;
  }
  stan::math::check_size_match(function, "sum of nonzero_per_time", start[n_time], "counts",
                               n_bins);
  const bayesbg_populated_bins::problem p{d.data(), S.data(), S.outerStride(), bg.data(),
                                          &block_start, n_bins, S.cols(), n_blocks};
  Eigen::VectorXd result = Eigen::VectorXd::Zero(n_time);
  const bool avx2 = bayesbg_populated_bins::use_avx2();
  auto run = [&](Eigen::Index t) {
    if (start[t + 1] == start[t]) return;
    double bad_value = 0.0;
    if (!bayesbg_populated_bins::segment_loglik(p, f.data(), a[block[t]], start[t],
                                                start[t + 1], avx2, result[t], bad_value))
      result[t] = bayesbg_populated_bins::invalid_rate_loglik(bad_value);
  };
#ifdef STAN_THREADS
  tbb::parallel_for(tbb::blocked_range<Eigen::Index>(0, n_time, 1),
                    [&](const tbb::blocked_range<Eigen::Index>& range) {
                      for (Eigen::Index t = range.begin(); t < range.end(); ++t) run(t);
                    });
#else
  for (Eigen::Index t = 0; t < n_time; ++t) run(t);
#endif
  return result;
}

namespace bayesbg_populated_bins {

/// Sums of one segment, bins [begin, end) with sky scale `scale` and background
/// amplitude `amplitude`: sum d log m into loglik; if gradient, sum r P into grad_scale
/// and sum r Bg into grad_amplitude.  False (with bad_value) if some m <= 0 or NaN.
template <bool gradient>
inline bool segment_sums(const problem& p, double scale, double amplitude,
                         Eigen::Index begin, Eigen::Index end, bool avx2, double& loglik,
                         double& grad_scale, double& grad_amplitude, double& bad_value) {
  alignas(64) double buffer[tile_size];
  double sum = 0.0;
  double sum_r_sky = 0.0;
  double sum_r_bg = 0.0;
  for (Eigen::Index position = begin; position < end; position += tile_size) {
    const Eigen::Index n = std::min<Eigen::Index>(tile_size, end - position);
    if (!tile_sums<gradient>(p, &scale, amplitude, position, n, buffer, avx2, sum,
                             &sum_r_sky, sum_r_bg, bad_value))
      return false;
  }
  loglik = sum;
  grad_scale = sum_r_sky;
  grad_amplitude = sum_r_bg;
  return true;
}

/// Checks of the segment layout; throws std::domain_error naming the argument.
inline void check_segments(const char* function, Eigen::Index n_bins, Eigen::Index n_scale,
                           Eigen::Index n_blocks, const std::vector<int>& segment_start,
                           const std::vector<int>& segment_block) {
  stan::math::check_size_match(function, "segment_start", segment_start.size(),
                               "scale + 1", n_scale + 1);
  stan::math::check_size_match(function, "segment_block", segment_block.size(), "scale",
                               n_scale);
  if (segment_start.front() != 1 || segment_start.back() != n_bins + 1)
    stan::math::throw_domain_error(function, "segment_start", segment_start.front(),
                                   "must run from 1 to N + 1, found first = ");
  for (Eigen::Index s = 0; s < n_scale; ++s) {
    if (segment_start[s + 1] < segment_start[s])
      stan::math::throw_domain_error(function, "segment_start", segment_start[s + 1],
                                     "must be non-decreasing, found ");
    if (segment_block[s] < 1 || segment_block[s] > n_blocks)
      stan::math::throw_domain_error(function, "segment_block", segment_block[s],
                                     "must lie in 1..B (amplitudes), found ");
  }
}

/// Per-segment sums of all segments (in parallel chunks with STAN_THREADS); fills
/// loglik[s], grad_scale[s], grad_amplitude[s] (the segment's sum r Bg), failed, bad.
template <bool gradient>
inline void all_segment_sums(const problem& p, const double* scale, const double* amplitude,
                             const std::vector<int>& segment_start,
                             const std::vector<int>& segment_block, Eigen::Index chunk_size,
                             std::vector<double>& loglik, std::vector<double>& grad_scale,
                             std::vector<double>& grad_amplitude, std::vector<char>& failed,
                             std::vector<double>& bad) {
  const Eigen::Index n_segments = static_cast<Eigen::Index>(segment_block.size());
  const Eigen::Index chunk = chunk_size > 0 ? chunk_size : default_chunk_size;
  // Chunks of whole segments holding at least `chunk` bins (the last one fewer).
  std::vector<Eigen::Index> chunk_begin{0};
  for (Eigen::Index s = 0; s < n_segments; ++s)
    if (segment_start[s + 1] - segment_start[chunk_begin.back()] >= chunk
        && s + 1 < n_segments)
      chunk_begin.push_back(s + 1);
  chunk_begin.push_back(n_segments);
  const Eigen::Index n_chunks = static_cast<Eigen::Index>(chunk_begin.size()) - 1;
  const bool avx2 = use_avx2();
  auto run = [&](Eigen::Index c) {
    for (Eigen::Index s = chunk_begin[c]; s < chunk_begin[c + 1]; ++s) {
      failed[s] = !segment_sums<gradient>(p, scale[s], amplitude[segment_block[s] - 1],
                                          segment_start[s] - 1, segment_start[s + 1] - 1,
                                          avx2, loglik[s], grad_scale[s],
                                          grad_amplitude[s], bad[s]);
    }
  };
#ifdef STAN_THREADS
  if (n_chunks > 1) {
    tbb::parallel_for(tbb::blocked_range<Eigen::Index>(0, n_chunks, 1),
                      [&](const tbb::blocked_range<Eigen::Index>& range) {
                        for (Eigen::Index c = range.begin(); c < range.end(); ++c) run(c);
                      });
  } else if (n_chunks == 1) {
    run(0);
  }
#else
  for (Eigen::Index c = 0; c < n_chunks; ++c) run(c);
#endif
}

}  // namespace bayesbg_populated_bins

template <typename TG, typename TA, typename TD, typename TP, typename TB>
inline stan::return_type_t<TG, TA> segment_scaled_loglik_chunked(
    const TG& scale, const TA& amplitude, const TD& counts, const TP& sky,
    const TB& background, const std::vector<int>& segment_start,
    const std::vector<int>& segment_block, int chunk_size, std::ostream* pstream__) {
  using stan::math::value_of;
  static constexpr const char* function = "segment_scaled_loglik";
  const Eigen::Ref<const Eigen::VectorXd> d = counts;
  const Eigen::Ref<const Eigen::VectorXd> pattern = sky;
  const Eigen::Ref<const Eigen::VectorXd> bg = background;
  const Eigen::VectorXd g = value_of(scale);
  const Eigen::VectorXd a = value_of(amplitude);
  const Eigen::Index n_bins = d.size();
  const Eigen::Index n_segments = g.size();
  stan::math::check_size_match(function, "sky", pattern.size(), "counts", n_bins);
  stan::math::check_size_match(function, "background", bg.size(), "counts", n_bins);
  bayesbg_populated_bins::check_segments(function, n_bins, n_segments, a.size(),
                                         segment_start, segment_block);
  const bayesbg_populated_bins::problem p{d.data(), pattern.data(), n_bins, bg.data(),
                                          nullptr, n_bins, 1, a.size()};
  std::vector<double> loglik(n_segments, 0.0), grad_g(n_segments, 0.0),
      grad_bg(n_segments, 0.0), bad(n_segments, 0.0);
  std::vector<char> failed(n_segments, 0);
  using return_t = stan::return_type_t<TG, TA>;
  constexpr bool gradient = !stan::is_constant<return_t>::value;
  bayesbg_populated_bins::all_segment_sums<gradient>(
      p, g.data(), a.data(), segment_start, segment_block, chunk_size, loglik, grad_g,
      grad_bg, failed, bad);
  double invalid = 0.0;  // as in evaluate(): -inf for some m = 0, NaN for NaN
  for (Eigen::Index s = 0; s < n_segments; ++s) {
    if (!failed[s]) continue;
    if (bad[s] < 0)
      stan::math::throw_domain_error(function, "expected counts", bad[s],
                                     "must be non-negative in populated bins, found ");
    if (!std::isnan(invalid)) invalid = bayesbg_populated_bins::invalid_rate_loglik(bad[s]);
  }
  double total = 0.0;
  if (invalid != 0.0) {
    total = invalid;
  } else {
    for (Eigen::Index s = 0; s < n_segments; ++s) total += loglik[s];  // fixed order
  }
  if constexpr (!gradient) {
    return total;
  } else {
    stan::arena_t<Eigen::VectorXd> grad_scale(n_segments);
    stan::arena_t<Eigen::VectorXd> grad_amplitude = Eigen::VectorXd::Zero(a.size());
    for (Eigen::Index s = 0; s < n_segments; ++s) {
      grad_scale[s] = invalid != 0.0 ? 0.0 : grad_g[s];
      if (invalid == 0.0) grad_amplitude[segment_block[s] - 1] += grad_bg[s];
    }
    auto scale_arena = stan::math::to_arena(scale);
    auto amplitude_arena = stan::math::to_arena(amplitude);
    return stan::math::make_callback_var(
        total,
        [scale_arena, amplitude_arena, grad_scale, grad_amplitude](auto& result) mutable {
          if constexpr (!stan::is_constant<TG>::value)
            scale_arena.adj() += result.adj() * grad_scale;
          if constexpr (!stan::is_constant<TA>::value)
            amplitude_arena.adj() += result.adj() * grad_amplitude;
        });
  }
}

/// Per segment: sum over its populated bins of d log m (generated quantities; double
/// parameters only).  -inf or NaN for a segment with some m = 0 or NaN.
template <typename TG, typename TA, typename TD, typename TP, typename TB>
inline Eigen::VectorXd segment_scaled_loglik_per_segment(
    const TG& scale, const TA& amplitude, const TD& counts, const TP& sky,
    const TB& background, const std::vector<int>& segment_start,
    const std::vector<int>& segment_block, std::ostream* pstream__) {
  static_assert(stan::is_constant<stan::return_type_t<TG, TA>>::value,
                "segment_scaled_loglik_per_segment takes double parameters only "
                "(generated quantities); use segment_scaled_loglik_chunked in the model");
  static constexpr const char* function = "segment_scaled_loglik_per_segment";
  const Eigen::Ref<const Eigen::VectorXd> d = counts;
  const Eigen::Ref<const Eigen::VectorXd> pattern = sky;
  const Eigen::Ref<const Eigen::VectorXd> bg = background;
  const Eigen::VectorXd g = stan::math::value_of(scale);
  const Eigen::VectorXd a = stan::math::value_of(amplitude);
  const Eigen::Index n_bins = d.size();
  const Eigen::Index n_segments = g.size();
  stan::math::check_size_match(function, "sky", pattern.size(), "counts", n_bins);
  stan::math::check_size_match(function, "background", bg.size(), "counts", n_bins);
  bayesbg_populated_bins::check_segments(function, n_bins, n_segments, a.size(),
                                         segment_start, segment_block);
  const bayesbg_populated_bins::problem p{d.data(), pattern.data(), n_bins, bg.data(),
                                          nullptr, n_bins, 1, a.size()};
  std::vector<double> loglik(n_segments, 0.0), unused_g(n_segments, 0.0),
      unused_bg(n_segments, 0.0), bad(n_segments, 0.0);
  std::vector<char> failed(n_segments, 0);
  bayesbg_populated_bins::all_segment_sums<false>(p, g.data(), a.data(), segment_start,
                                                  segment_block, 0, loglik, unused_g,
                                                  unused_bg, failed, bad);
  Eigen::VectorXd result(n_segments);
  for (Eigen::Index s = 0; s < n_segments; ++s)
    result[s] = failed[s] ? bayesbg_populated_bins::invalid_rate_loglik(bad[s]) : loglik[s];
  return result;
}

#endif
