// COSI binned template fit at scale, docs/equations.md section 1:
//   d[t, c] ~ Poisson(m[t, c]),  m = sum_k F[k] S[k, t, c] + A[block(t)] Bg[t, c]
//   log L = sum_{d > 0} d log m - sum_k F[k] sum(S[k]) - sum_b A[b] sum_{t in b, c} Bg
//           - sum_{d > 0} log d!
// Only the populated bins (d > 0, sorted by time) enter d log m; the sum of m over all
// bins comes from the per-template and per-block totals, as sum m is linear in F and A.
//   F[k] ~ N+(flux_prior_mean[k], flux_prior_sd[k]),  A[b] ~ N+(1, background_prior_sd)
// fused_likelihood = 1: sum d log m and its gradient come from one C++ pass over the
// populated bins held as dense columns S[i, k], Bg[i], sorted by block
// (stan_models/functions/populated_bins_loglik.hpp, compiled in through stanc's
// --allow-undefined), in chunks of grainsize bins (0: 8192) that run in parallel when
// the program is compiled with threads (same result for any number of threads).
// fused_likelihood = 0: the plain Stan expression, the readable reference: one sparse
// product m = X theta with theta = (F, A) (row i of X holds S[i, 1..K] and Bg[i] in
// column K + block(i)); grainsize > 0 gives its reduce_sum form.
// Generated quantities: sum_{i in t} d_i log m_i per time bin from one double-only C++
// pass (populated_bins_loglik_per_time, same header) when fused_likelihood = 1, else
// from the Stan expression.
// bayesbg-user-header: populated_bins_loglik.hpp
functions {
  #include cosi.stanfunctions
  real populated_bins_loglik_chunked(vector flux, vector amplitude, data vector counts,
                                     data matrix sky_response, data vector background,
                                     data array[] int block_start, data int chunk_size);
  vector populated_bins_loglik_per_time(vector flux, vector amplitude, data vector counts,
                                        data matrix sky_response, data vector background,
                                        data array[] int block_start,
                                        data array[] int nonzero_per_time);
}
data {
  int<lower=1> T; // time bins
  int<lower=1> N; // populated (time, data-space) bins, d > 0
  int<lower=1> K; // sky templates
  int<lower=1> B; // background blocks
  array[N] int<lower=1> counts; // observed counts d of the populated bins, sorted by time
  int<lower=N> W; // stored entries of the design matrix X, N * (K + 1)
  vector<lower=0>[W] design_value; // X: S (counts per ph cm-2 s-1) and Bg (counts, A = 1)
  array[W] int<lower=1, upper=K + B> design_column; // column of each stored entry
  array[N + 1] int<lower=1> design_row_start; // start of each row of X in the entries
  array[T] int<lower=0> nonzero_per_time; // populated bins per time bin
  matrix<lower=0>[T, K] sky_per_time; // sum_c S[k, t, c], counts per ph cm-2 s-1
  vector<lower=0>[T] background_per_time; // sum_c Bg[t, c], counts for A = 1
  array[T] int<lower=1, upper=B> time_block; // background block of each time bin
  vector<lower=0>[K] flux_prior_mean; // ph cm-2 s-1
  vector<lower=0>[K] flux_prior_sd; // ph cm-2 s-1
  real<lower=0> background_prior_sd; // dimensionless
  int<lower=0, upper=1> use_priors; // 1: priors on (posterior, MAP); 0: off (max. likelihood)
  int<lower=0> grainsize; // chunk of populated bins (reduce_sum or fused chunks); 0: default
  int<lower=0, upper=1> fused_likelihood; // 1: C++ pass with analytic gradient; 0: plain Stan
}
transformed data {
  vector[N] counts_real = to_vector(counts);
  vector[K] sky_total = sky_per_time' * rep_vector(1, T); // sum_{t, c} S[k, t, c]
  vector[B] background_total = rep_vector(0, B); // sum_{t in b, c} Bg[t, c] (= N_b)
  for (t in 1 : T) {
    background_total[time_block[t]] += background_per_time[t];
  }
  if (sum(nonzero_per_time) != N) {
    reject("nonzero_per_time must sum to N = ", N);
  }
  if (design_row_start[N + 1] != W + 1) {
    reject("design_row_start[N + 1] must be W + 1 = ", W + 1);
  }
  for (t in 2 : T) {
    if (fused_likelihood && time_block[t] < time_block[t - 1]) {
      reject("fused_likelihood needs blocks that are contiguous in time ",
             "(time_block non-decreasing); found a decrease at time bin ", t);
    }
  }
  // Populated bins as dense columns: S[i, k] and Bg[i]; block of each bin; bins of
  // block b are block_start[b] .. block_start[b + 1] - 1 (bins sorted by time).
  matrix[N, K] sky_populated = rep_matrix(0, N, K);
  vector[N] background_populated = rep_vector(0, N);
  array[N] int bin_block;
  array[B + 1] int block_start = rep_array(1, B + 1);
  vector[T] log_factorial_time = rep_vector(0, T); // sum over the bins of t of log d!
  {
    vector[N] log_factorial_bin = lgamma(counts_real + 1);
    int position = 1;
    for (t in 1 : T) {
      for (i in position : (position + nonzero_per_time[t] - 1)) {
        bin_block[i] = time_block[t];
        log_factorial_time[t] += log_factorial_bin[i];
      }
      position += nonzero_per_time[t];
      block_start[time_block[t] + 1] = position;
    }
    for (b in 1 : B) { // blocks without populated bins
      block_start[b + 1] = max(block_start[b + 1], block_start[b]);
    }
  }
  for (i in 1 : N) {
    for (w in design_row_start[i] : (design_row_start[i + 1] - 1)) {
      if (design_column[w] <= K) {
        sky_populated[i, design_column[w]] = design_value[w];
      } else if (design_column[w] != K + bin_block[i]) {
        reject("design_column of row ", i, " must be K + its block");
      } else {
        background_populated[i] = design_value[w];
      }
    }
  }
  real log_factorial = sum(log_factorial_time); // sum of log d! (a constant)
}
parameters {
  vector<lower=0>[K] flux; // F_k, ph cm-2 s-1
  vector<lower=0>[B] background_amplitude; // A_b, dimensionless
}
model {
  if (use_priors) {
    // Priors: normals truncated at 0 by the declarations ([COSI-511] eq. 11)
    flux ~ normal(flux_prior_mean, flux_prior_sd);
    background_amplitude ~ normal(1, background_prior_sd);
  }
  // Likelihood: Poisson over every bin; zero bins contribute only through sum(m)
  if (fused_likelihood) {
    target += populated_bins_loglik_chunked(flux, background_amplitude, counts_real,
                                            sky_populated, background_populated,
                                            block_start, grainsize);
  } else if (grainsize > 0) {
    target += reduce_sum(cosi_partial_log_rate, counts, grainsize, K + B,
                         design_value, design_column, design_row_start,
                         append_row(flux, background_amplitude));
  } else {
    target += dot_product(counts_real,
                          log(csr_matrix_times_vector(N, K + B, design_value,
                                                      design_column, design_row_start,
                                                      append_row(flux,
                                                                 background_amplitude))));
  }
  target += -dot_product(sky_total, flux)
            - dot_product(background_total, background_amplitude)
            - log_factorial;
}
generated quantities {
  vector[T] sky_counts_time = sky_per_time * flux; // expected sky counts per time bin
  vector[T] background_counts_time = background_amplitude[time_block]
                                     .* background_per_time; // expected background counts
  vector[T] log_lik; // ln p(d[t, .] | theta) per time bin, with the log d! terms
  array[T] int counts_time_rep; // posterior predictive counts per time bin
  {
    // sum_{i in t, d_i > 0} d_i log m_i per time bin t
    vector[T] populated;
    if (fused_likelihood) {
      populated = populated_bins_loglik_per_time(flux, background_amplitude, counts_real,
                                                 sky_populated, background_populated,
                                                 block_start, nonzero_per_time);
    } else {
      vector[N] terms = counts_real
                        .* log(sky_populated * flux
                               + background_amplitude[bin_block] .* background_populated);
      int position = 1;
      for (t in 1 : T) {
        populated[t] = 0;
        if (nonzero_per_time[t] > 0) {
          populated[t] = sum(segment(terms, position, nonzero_per_time[t]));
        }
        position += nonzero_per_time[t];
      }
    }
    log_lik = populated - log_factorial_time - sky_counts_time - background_counts_time;
    counts_time_rep = poisson_rng(sky_counts_time + background_counts_time);
  }
}
