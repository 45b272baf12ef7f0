// Flux per IBIS field of view from per-pointing residual fluxes, DOMAIN.md section 3:
//   p(r) = w_core Normal(r | mu, sigma) + w_lo Uniform(r | r_min, mu)
//          + w_hi Uniform(r | mu, r_max)
// fitted independently for G groups (region x band) in one program; the pointings of
// group g are flux[group_start[g] : group_start[g] + group_size[g] - 1].
functions {
  #include isgri_flux_mixture.stanfunctions
}
data {
  int<lower=1> N; // pointings (ScWs) over all groups
  int<lower=1> G; // groups (region x band)
  vector[N] flux; // per-pointing residual flux r, mCrab per FOV
  array[G] int<lower=1, upper=N> group_start; // first pointing of group g
  array[G] int<lower=1, upper=N> group_size; // pointings in group g
  vector[G] flux_min; // r_min, lower end of the low wing, mCrab
  vector[G] flux_max; // r_max, upper end of the high wing, mCrab
  vector[G] mu_prior_mean; // prior mean of mu, mCrab
  vector<lower=0>[G] mu_prior_sd; // prior sd of mu, mCrab
  vector<lower=0>[G] sigma_prior_sd; // half-normal prior scale of sigma, mCrab
  vector<lower=0>[3] weight_prior; // Dirichlet concentration (core, low wing, high wing)
  int<lower=0, upper=1> use_priors; // 1: priors on (posterior, MAP); 0: off (max. likelihood)
  int<lower=0, upper=1> save_log_lik; // 1: pointwise log_lik in generated quantities
}
parameters {
  vector<lower=flux_min, upper=flux_max>[G] mu; // flux per FOV, mCrab
  vector<lower=0>[G] sigma; // width of the Gaussian core, mCrab
  array[G] simplex[3] weight; // (core, low wing, high wing) weights
}
model {
  if (use_priors) {
    // Priors: normal on mu, half-normal on sigma, Dirichlet on the weights
    mu ~ normal(mu_prior_mean, mu_prior_sd);
    sigma ~ normal(0, sigma_prior_sd);
    for (g in 1 : G) {
      weight[g] ~ dirichlet(weight_prior);
    }
  }
  // Likelihood: the three-component mixture, vectorised over each group's pointings
  for (g in 1 : G) {
    target += sum(flux_mixture_log_density(segment(flux, group_start[g],
                                                   group_size[g]),
                                           mu[g], sigma[g], weight[g],
                                           flux_min[g], flux_max[g]));
  }
}
generated quantities {
  vector[G] weight_low; // w_lo, fraction of pointings in the low wing
  vector[G] weight_high; // w_hi, fraction of pointings in the high wing
  vector[save_log_lik ? N : 0] log_lik; // ln p(r[i] | mu, sigma, w) per pointing
  for (g in 1 : G) {
    weight_low[g] = weight[g][2];
    weight_high[g] = weight[g][3];
  }
  if (save_log_lik) {
    for (g in 1 : G) {
      log_lik[group_start[g] : group_start[g] + group_size[g] - 1]
        = flux_mixture_log_density(segment(flux, group_start[g], group_size[g]),
                                   mu[g], sigma[g], weight[g], flux_min[g],
                                   flux_max[g]);
    }
  }
}
