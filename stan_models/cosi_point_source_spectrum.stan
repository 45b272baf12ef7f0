// COSI point-source spectral fit, Band spectrum plus a free background normalisation
// (docs/cosi_io.md, "Band spectral fit"):
//   d[c] ~ Poisson(m[c]),  c = (Em, Phi, PsiChi) data bin
//   m[c] = sum_e P[c, e] * K * F[e](alpha, beta, xp) + bkg_norm * B[c]
//   F[e] = integral over true-energy bin e of band_shape(E) dE   (Simpson in ln E)
// P the point-source response (cm2 s, bayesbg.cosi.pointsource), B the background
// model (counts for bkg_norm = 1), K the Band amplitude at the pivot (ph cm-2 s-1 keV-1).
//   log L = sum_{d > 0} [d log m - lgamma(d + 1)] - sum_c m[c]
// Only the bins with d > 0 enter d log m; sum_c m comes from per-Em-bin totals of P and
// B. d may be non-integer (cosipy's test data are expected counts): the same expression
// is then the continuous extension of the Poisson log-probability.
// The amplitude is sampled as the photon flux in a band (flux_band, default the
// true-energy range),
//   photon_flux = K * integral_{flux_band} band_shape(E) dE   (ph cm-2 s-1),
// which the data constrain directly, and xp as ln xp. K (the value of the low-energy
// law at the pivot) is derived; it is not a good summary: where xp falls below the data's
// energy range only the high-energy law is seen and K grows without bound while the
// spectrum in the data's range stays put, so its posterior is heavy tailed. flux_at_pivot
// = f(pivot) (ph cm-2 s-1 keV-1) is the well-determined amplitude at the pivot.
// Priors (use_priors = 1; documented in docs/cosi_io.md):
//   log photon_flux ~ N(log_flux_prior), alpha ~ N(alpha_prior), beta ~ N(beta_prior),
//   log xp ~ N(log_xp_prior), log bkg_norm ~ N(log_bkg_prior), each truncated by the
//   declared bounds.
functions {
  #include band.stanfunctions
}
data {
  int<lower=1> E; // true-energy bins
  vector<lower=0>[E + 1] energy_true_edges; // keV, increasing
  int<lower=2> n_sub; // even Simpson sub-intervals per true-energy bin
  real<lower=0> pivot; // keV, pivot of K
  vector<lower=0>[2] flux_band; // keV, band of photon_flux
  int<lower=1> M; // measured-energy bins
  int<lower=1> N; // populated data bins, d > 0
  vector<lower=0>[N] counts; // d of the populated bins (may be non-integer)
  array[N] int<lower=1, upper=M> energy_bin; // measured-energy bin of each populated bin
  matrix<lower=0>[N, E] response; // P[c, e], cm2 s, populated bins
  vector<lower=0>[N] background; // B[c], counts, populated bins
  matrix<lower=0>[M, E] response_total; // sum of P[c, e] over all c in each Em bin
  vector<lower=0>[M] background_total; // sum of B[c] over all c in each Em bin
  vector[2] alpha_bounds; // lower > -2, upper
  vector[2] beta_bounds; // lower, upper < alpha_bounds[1] (so beta < alpha)
  vector<lower=0>[2] xp_bounds; // keV
  vector[2] log_flux_prior; // mean and sd of ln photon_flux (ph cm-2 s-1)
  vector[2] alpha_prior; // mean and sd
  vector[2] beta_prior; // mean and sd
  vector[2] log_xp_prior; // mean and sd of ln xp (keV)
  vector[2] log_bkg_prior; // mean and sd of ln bkg_norm
  int<lower=0, upper=1> use_priors; // 1: priors on (posterior, MAP); 0: off (max. likelihood)
}
transformed data {
  vector[E * (n_sub + 1)] node_energy = simpson_log_energy(energy_true_edges, n_sub);
  vector[E * (n_sub + 1)] node_weight = simpson_log_weight(energy_true_edges, n_sub);
  vector[n_sub + 1] band_node_energy = simpson_log_energy(flux_band, n_sub);
  vector[n_sub + 1] band_node_weight = simpson_log_weight(flux_band, n_sub);
  vector[1] pivot_energy = rep_vector(pivot, 1);
  real log_factorial = sum(lgamma(counts + 1)); // sum of log d! (a constant)
  vector[E] response_sum = response_total' * rep_vector(1, M); // sum_c P[c, e]
  real background_sum = sum(background_total); // sum_c B[c]
  if (n_sub % 2 != 0) {
    reject("n_sub must be even, found ", n_sub);
  }
  if (flux_band[2] <= flux_band[1]) {
    reject("flux_band must be increasing, found ", flux_band);
  }
  if (alpha_bounds[1] <= -2 || beta_bounds[2] >= alpha_bounds[1]) {
    reject("bounds must satisfy -2 < alpha_bounds[1] and beta_bounds[2] < alpha_bounds[1]");
  }
}
parameters {
  real<lower=0> photon_flux; // ph cm-2 s-1 in flux_band
  real<lower=alpha_bounds[1], upper=alpha_bounds[2]> alpha; // low-energy index
  real<lower=beta_bounds[1], upper=beta_bounds[2]> beta; // high-energy index
  real<lower=log(xp_bounds[1]), upper=log(xp_bounds[2])> log_xp; // ln keV, ln xp
  real<lower=0> bkg_norm; // background normalisation (1: the model as given)
}
transformed parameters {
  real<lower=0> xp = exp(log_xp); // keV, peak of E^2 f(E)
  real<lower=0> K; // ph cm-2 s-1 keV-1, the low-energy law at the pivot
  vector[E] bin_flux; // photon flux per true-energy bin, ph cm-2 s-1
  {
    vector[E] shape = band_bin_integrals(node_energy, node_weight, E, alpha, beta, xp,
                                         pivot);
    vector[1] in_band = band_bin_integrals(band_node_energy, band_node_weight, 1, alpha,
                                           beta, xp, pivot);
    K = photon_flux / in_band[1];
    bin_flux = K * shape;
  }
}
model {
  // Priors
  if (use_priors) {
    log(photon_flux) ~ normal(log_flux_prior[1], log_flux_prior[2]);
    target += -log(photon_flux); // Jacobian: the prior is stated on ln photon_flux
    alpha ~ normal(alpha_prior[1], alpha_prior[2]);
    beta ~ normal(beta_prior[1], beta_prior[2]);
    log_xp ~ normal(log_xp_prior[1], log_xp_prior[2]);
    log(bkg_norm) ~ normal(log_bkg_prior[1], log_bkg_prior[2]);
    target += -log(bkg_norm);
  }
  // Likelihood: sum_{d > 0} d log m - sum_c m (log d! is constant)
  target += dot_product(counts, log(response * bin_flux + bkg_norm * background))
            - dot_product(response_sum, bin_flux) - bkg_norm * background_sum;
}
generated quantities {
  // f(pivot), ph cm-2 s-1 keV-1: the spectrum's value at the pivot
  real flux_at_pivot = K * band_shape(pivot_energy, alpha, beta, xp, pivot)[1];
  // log_lik per measured-energy bin (full Poisson log-probability, for LOO by Em bin)
  vector[M] log_lik;
  vector[M] source_counts = response_total * bin_flux; // expected source counts per Em bin
  vector[M] background_counts = bkg_norm * background_total; // expected background per Em
  array[M] int counts_rep; // replicated counts per Em bin
  {
    vector[N] m = response * bin_flux + bkg_norm * background;
    log_lik = -(source_counts + background_counts);
    for (i in 1 : N) {
      log_lik[energy_bin[i]] += counts[i] * log(m[i]) - lgamma(counts[i] + 1);
    }
  }
  for (j in 1 : M) {
    counts_rep[j] = poisson_rng(source_counts[j] + background_counts[j]);
  }
}
