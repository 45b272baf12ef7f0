// Per-pointing reference of stan_models/isgri_flux_mixture.stan (the program before the
// likelihood was binned): the same mixture, docs/equations.md section 3,
//   p(r) = w_core Normal(r | mu, sigma) + w_lo Uniform(r | r_min, mu)
//          + w_hi Uniform(r | mu, r_max),
// evaluated at every pointing. The yardstick of benchmarks/isgri_pipeline.py.
functions {
  // log p(r) per pointing; the wing term is bounded, so wing + log1p_exp(core - wing)
  vector pointwise_log_density(vector flux, real mu, real sigma, vector weight,
                               real flux_min, real flux_max) {
    int n = num_elements(flux);
    vector[n] core = log(weight[1]) - 0.5 * square((flux - mu) / sigma) - log(sigma)
                     - 0.5 * log(2 * pi());
    real low = log(weight[2]) - log(mu - flux_min);
    real high = log(weight[3]) - log(flux_max - mu);
    vector[n] wing;
    for (i in 1 : n) {
      wing[i] = flux[i] <= mu ? low : high;
    }
    return wing + log1p_exp(core - wing);
  }
}
data {
  int<lower=1> N; // pointings over all groups
  int<lower=1> G; // groups (region x band)
  vector[N] flux; // per-pointing residual flux r, mCrab per FOV
  array[G] int<lower=1, upper=N> group_start; // first pointing of group g
  array[G] int<lower=1, upper=N> group_size; // pointings in group g
  vector[G] flux_min; // r_min, mCrab
  vector[G] flux_max; // r_max, mCrab
  vector[G] mu_prior_mean; // mCrab
  vector<lower=0>[G] mu_prior_sd; // mCrab
  vector<lower=0>[G] sigma_prior_sd; // mCrab
  vector<lower=0>[3] weight_prior; // Dirichlet concentration
}
parameters {
  vector<lower=flux_min, upper=flux_max>[G] mu; // flux per FOV, mCrab
  vector<lower=0>[G] sigma; // core width, mCrab
  array[G] simplex[3] weight; // (core, low wing, high wing)
}
model {
  // Priors
  mu ~ normal(mu_prior_mean, mu_prior_sd);
  sigma ~ normal(0, sigma_prior_sd);
  for (g in 1 : G) {
    weight[g] ~ dirichlet(weight_prior);
  }
  // Likelihood, per pointing
  for (g in 1 : G) {
    target += sum(pointwise_log_density(segment(flux, group_start[g], group_size[g]),
                                        mu[g], sigma[g], weight[g], flux_min[g],
                                        flux_max[g]));
  }
}
