// Binned Poisson template fit, docs/equations.md section 1: m = S' F + A[block] .* Bg
//   counts[i] ~ Poisson(m[i]),  m[i] = sum_k F[k] S[k, i] + A[block[i]] Bg[i]
//   F[k] ~ N+(flux_prior_mean[k], flux_prior_sd[k]),  A[b] ~ N+(1, background_prior_sd)
functions {
  #include template_fit.stanfunctions
}
data {
  int<lower=1> N; // populated data-space bins
  int<lower=1> K; // sky templates
  int<lower=1> B; // background blocks
  array[N] int<lower=0> counts; // observed counts d[i]
  matrix<lower=0>[K, N] sky_response; // counts per ph cm-2 s-1
  vector<lower=0>[N] background; // counts for A = 1
  array[N] int<lower=1, upper=B> block; // block of each bin
  vector<lower=0>[K] flux_prior_mean; // ph cm-2 s-1
  vector<lower=0>[K] flux_prior_sd; // ph cm-2 s-1
  real<lower=0> background_prior_sd; // dimensionless
  int<lower=0, upper=1> use_priors; // 1: priors on (posterior, MAP); 0: off (max. likelihood)
}
parameters {
  vector<lower=0>[K] flux; // F_k, ph cm-2 s-1
  vector<lower=0>[B] background_amplitude; // A_b, dimensionless
}
model {
  if (use_priors) {
    // Priors: normals truncated at 0 by the declarations ([COSI-511] eq. 11);
    // the truncation constants depend on data only, so they are dropped
    flux ~ normal(flux_prior_mean, flux_prior_sd);
    background_amplitude ~ normal(1, background_prior_sd);
  }
  // Likelihood: Poisson, the Cash statistic of [COSI-PS]
  counts ~ poisson(expected_counts(flux, sky_response, background_amplitude,
                                   background, block));
}
generated quantities {
  vector[N] log_lik; // ln p(d[i] | m[i]) per bin, with the ln d[i]! term
  array[N] int counts_rep; // posterior predictive counts d_rep[i] ~ Poisson(m[i])
  {
    vector[N] expected = expected_counts(flux, sky_response,
                                         background_amplitude, background,
                                         block);
    for (n in 1 : N) {
      log_lik[n] = poisson_lpmf(counts[n] | expected[n]);
    }
    counts_rep = poisson_rng(expected);
  }
}
