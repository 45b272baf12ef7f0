// Dense reference of stan_models/cosi_template_fit.stan, written as older analyses wrote
// it: a loop over every (time, data-space) bin, populated or not. The yardstick for the
// fast program (same log density, docs/equations.md section 1).
//   d[t, c] ~ Poisson(sum_k F[k] S[k, t, c] + A[time_block[t]] Bg[t, c])
data {
  int<lower=1> T; // time bins
  int<lower=1> C; // data-space bins
  int<lower=1> K; // sky templates
  int<lower=1> B; // background blocks
  array[T, C] int<lower=0> counts; // observed counts d[t, c]
  array[K] matrix<lower=0>[T, C] sky_response; // S[k, t, c], counts per ph cm-2 s-1
  matrix<lower=0>[T, C] background; // Bg[t, c], counts for A = 1
  array[T] int<lower=1, upper=B> time_block; // background block of each time bin
  vector<lower=0>[K] flux_prior_mean; // ph cm-2 s-1
  vector<lower=0>[K] flux_prior_sd; // ph cm-2 s-1
  real<lower=0> background_prior_sd; // dimensionless
  int<lower=0, upper=1> use_priors; // 1: priors on; 0: off (max. likelihood)
}
parameters {
  vector<lower=0>[K] flux; // F_k, ph cm-2 s-1
  vector<lower=0>[B] background_amplitude; // A_b, dimensionless
}
model {
  if (use_priors) {
    flux ~ normal(flux_prior_mean, flux_prior_sd);
    background_amplitude ~ normal(1, background_prior_sd);
  }
  for (t in 1 : T) {
    for (c in 1 : C) {
      real expected = background_amplitude[time_block[t]] * background[t, c];
      for (k in 1 : K) {
        expected += flux[k] * sky_response[k][t, c];
      }
      target += poisson_lpmf(counts[t, c] | expected);
    }
  }
}
