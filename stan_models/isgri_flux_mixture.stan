// Flux per IBIS field of view from the residual fluxes of the pointings, docs/equations.md section 3:
//   p(r) = w_core Normal(r | mu, sigma) + w_lo Uniform(r | r_min, mu)
//          + w_hi Uniform(r | mu, r_max)
// fitted independently for G groups (region x band) in one program. The residual fluxes
// of group g are binned (bins g: bin_start[g] ... bin_start[g] + bin_size[g] - 1, edges
// covering [r_min, r_max]); the likelihood is the multinomial of the bin counts,
//   log L = sum_j count[j] log P_j(mu, sigma, w),
// P_j the mixture's probability of bin j: the exact likelihood of the binned data (bins
// far narrower than sigma lose almost no information; ~100 bins replace ~10^4 pointings).
functions {
  #include isgri_flux_mixture.stanfunctions
}
data {
  int<lower=1> G; // groups (region x band)
  int<lower=1> K; // bins over all groups
  array[G] int<lower=1, upper=K> bin_start; // first bin of group g
  array[G] int<lower=1, upper=K> bin_size; // bins of group g
  vector[K] bin_lower; // lower bin edge, mCrab per FOV
  vector[K] bin_upper; // upper bin edge, mCrab per FOV
  array[K] int<lower=0> bin_count; // pointings in the bin
  vector[G] flux_min; // r_min, lower end of the low wing (= first edge), mCrab
  vector[G] flux_max; // r_max, upper end of the high wing (= last edge), mCrab
  vector[G] mu_prior_mean; // prior mean of mu, mCrab
  vector<lower=0>[G] mu_prior_sd; // prior sd of mu, mCrab
  vector<lower=0>[G] sigma_prior_sd; // half-normal prior scale of sigma, mCrab
  vector<lower=0>[3] weight_prior; // Dirichlet concentration (core, low wing, high wing)
  int<lower=0, upper=1> use_priors; // 1: priors on (posterior, MAP); 0: off (max. likelihood)
  int<lower=0> N_log_lik; // pointings with a log_lik (0: none)
  array[N_log_lik] int<lower=1, upper=K> pointing_bin; // bin of each pointing
}
transformed data {
  vector[K] bin_width = bin_upper - bin_lower; // mCrab
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
  // Likelihood: multinomial over each group's bins, sum_j count[j] log P_j
  for (g in 1 : G) {
    int s = bin_start[g];
    int n = bin_size[g];
    target += dot_product(to_vector(bin_count[s : s + n - 1]),
                          log(flux_mixture_bin_probability(
                                bin_lower[s : s + n - 1], bin_upper[s : s + n - 1],
                                mu[g], sigma[g], weight[g], flux_min[g],
                                flux_max[g])));
  }
}
generated quantities {
  vector[G] weight_low; // w_lo, fraction of pointings in the low wing
  vector[G] weight_high; // w_hi, fraction of pointings in the high wing
  vector[N_log_lik] log_lik; // ln of the binned density at each pointing, ln mCrab^-1
  for (g in 1 : G) {
    weight_low[g] = weight[g][2];
    weight_high[g] = weight[g][3];
  }
  if (N_log_lik > 0) {
    vector[K] log_density;
    for (g in 1 : G) {
      int s = bin_start[g];
      int n = bin_size[g];
      log_density[s : s + n - 1] = log(flux_mixture_bin_probability(
                                          bin_lower[s : s + n - 1],
                                          bin_upper[s : s + n - 1], mu[g], sigma[g],
                                          weight[g], flux_min[g], flux_max[g]))
                                   - log(bin_width[s : s + n - 1]);
    }
    log_lik = log_density[pointing_bin];
  }
}
