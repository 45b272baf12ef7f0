// Fused Poisson log-likelihood over the populated (non-zero) bins of a binned
// template fit, with its analytic gradient (DOMAIN.md section 1):
//
//   L = sum_i d_i log m_i,   m_i = sum_k S_ik F_k + A_b(i) Bg_i,
//   dL/dF_k = sum_i (d_i / m_i) S_ik,   dL/dA_b = sum_{i in b} (d_i / m_i) Bg_i.
//
// The bins are sorted by background block; block b holds bins
// block_start[b] .. block_start[b + 1] - 1 (1-based, block_start has B + 1 entries,
// the last equal to N + 1).  The linear term -sum m over all bins (zeros included) is
// left to the Stan program, which has it from precomputed totals.
//
// One pass computes m, log m and d / m and keeps the two gradient vectors for the
// reverse sweep, instead of Stan's autodiff tape of one node per bin and operation.
// Use from a Stan program compiled with --allow-undefined and this file as USER_HEADER:
//
//   functions {
//     real populated_bins_loglik(vector flux, vector amplitude, data vector counts,
//                                data matrix sky_response, data vector background,
//                                data array[] int block_start);
//   }
//
// It is defined in the global namespace, which encloses every model's namespace,
// so one header serves every program.  bayesbg's own code.
#ifndef BAYESBG_POPULATED_BINS_LOGLIK_HPP
#define BAYESBG_POPULATED_BINS_LOGLIK_HPP

#include <stan/model/model_header.hpp>

#include <ostream>
#include <vector>

template <typename TF, typename TA, typename TD, typename TS, typename TB>
inline stan::return_type_t<TF, TA> populated_bins_loglik(
    const TF& flux, const TA& amplitude, const TD& counts, const TS& sky_response,
    const TB& background, const std::vector<int>& block_start, std::ostream* pstream__) {
  using stan::math::value_of;
  static constexpr const char* function = "populated_bins_loglik";
  const Eigen::Ref<const Eigen::VectorXd> d = counts;
  const Eigen::Ref<const Eigen::MatrixXd> S = sky_response;
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

  // Expected counts in the populated bins.
  Eigen::VectorXd m = S * f;
  for (Eigen::Index b = 0; b < n_blocks; ++b) {
    const Eigen::Index start = block_start[b] - 1;
    const Eigen::Index length = block_start[b + 1] - block_start[b];
    m.segment(start, length) += a[b] * bg.segment(start, length);
  }
  if (!(m.array() > 0).all())
    stan::math::throw_domain_error(function, "expected counts", m.minCoeff(),
                                   "must be positive in populated bins, found ");
  const double log_likelihood = (d.array() * m.array().log()).sum();

  using return_t = stan::return_type_t<TF, TA>;
  if constexpr (stan::is_constant<return_t>::value) {
    return log_likelihood;
  } else {
    const Eigen::VectorXd ratio = d.cwiseQuotient(m);
    Eigen::VectorXd amplitude_gradient(n_blocks);
    for (Eigen::Index b = 0; b < n_blocks; ++b) {
      const Eigen::Index start = block_start[b] - 1;
      const Eigen::Index length = block_start[b + 1] - block_start[b];
      amplitude_gradient[b] = ratio.segment(start, length).dot(bg.segment(start, length));
    }
    stan::arena_t<Eigen::VectorXd> grad_flux = S.transpose() * ratio;
    stan::arena_t<Eigen::VectorXd> grad_amplitude = amplitude_gradient;
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

#endif
