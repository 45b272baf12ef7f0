// Sparse binned Poisson template fit with the fused C++ likelihood of
// stan_models/functions/populated_bins_loglik.hpp (test program).
functions {
  real populated_bins_loglik(vector flux, vector amplitude, data vector counts,
                             data matrix sky_response, data vector background,
                             data array[] int block_start);
}
data {
  int<lower=1> N; // populated bins
  int<lower=1> K; // templates
  int<lower=1> B; // blocks
  vector<lower=0>[N] counts; // d in populated bins
  matrix<lower=0>[N, K] sky_response; // S in populated bins
  vector<lower=0>[N] background; // Bg in populated bins
  array[B + 1] int<lower=1> block_start; // bins of block b: block_start[b] .. block_start[b+1]-1
  vector<lower=0>[K] template_totals; // sum of S over all bins
  vector<lower=0>[B] block_totals; // sum of Bg over all bins of each block
}
parameters {
  vector<lower=0>[K] flux;
  vector<lower=0>[B] amplitude;
}
model {
  flux ~ normal(0, 10);
  amplitude ~ normal(1, 0.5);
  target += populated_bins_loglik(flux, amplitude, counts, sky_response, background,
                                  block_start)
            - dot_product(flux, template_totals) - dot_product(amplitude, block_totals);
}
generated quantities {
  real loglik_check = populated_bins_loglik(flux, amplitude, counts, sky_response,
                                            background, block_start);
}
