// Spectral fit in Crab units, docs/equations.md section 4 ([ISGRI] 4.3, [COSI-PS] 5):
//   model_mcrab[j] = C[d(j)] * sum_k 1000 * F_k * ratio_k[j] / crab[j]
//   ratio_k[j] = photon flux of component k in band j per keV cm-2 s-1 of its energy
//                flux in the flux band (default 30-80 keV, XSPEC's cflux)
//   value[j] ~ Normal(model_mcrab[j], sigma[j]), sigma^2 = error^2 + (sys[d] * model)^2
//   upper limits: P(value < limit) = Phi((limit - model) / sigma) (censored data)
// Components are chosen by data (component_type), so one program serves every model.
functions {
  #include spectra.stanfunctions
}
data {
  int<lower=1> N; // bands, all datasets
  int<lower=1> D; // datasets; dataset 1 is the reference (C = 1)
  array[N] int<lower=1, upper=D> dataset; // dataset of each band
  vector<lower=0>[N] energy_min; // keV
  vector<lower=0>[N] energy_max; // keV
  vector[N] value; // mCrab (the limit for an upper limit)
  vector<lower=0>[N] error; // mCrab, 1 sigma
  array[N] int<lower=0, upper=1> upper_limit; // 1: value is an upper limit
  vector<lower=0>[D] systematic; // fractional systematic error per dataset
  int<lower=1> M; // quadrature nodes of all bands
  vector[M] node_log_energy; // ln keV
  vector[M] node_log_weight; // ln keV, ln(w E) of Gauss-Legendre in ln E
  array[N] int<lower=1, upper=M> node_start; // first node of each band
  array[N] int<lower=1> node_count; // nodes of each band
  vector<lower=0>[2] flux_band; // keV, band of the component energy fluxes
  int<lower=1> M_ref; // quadrature nodes of the flux band
  vector[M_ref] ref_log_energy; // ln keV
  vector[M_ref] ref_log_weight; // ln keV
  int<lower=1> K; // spectral components
  array[K] int<lower=1, upper=5> component_type; // 1 powerlaw ... 5 ipm
  array[K, 3] int<lower=0> shape_free; // 0: fixed; p: free shape parameter p
  array[K, 3] real shape_fixed; // values of fixed shape parameters (keV, Msun, -)
  int<lower=0> P; // free shape parameters
  vector[P] shape_lower; // their lower bounds
  vector[P] shape_upper; // their upper bounds
  array[P] int<lower=1, upper=4> shape_prior; // 1 normal, 2 lognormal, 3 uniform, 4 log-uniform
  vector[P] shape_prior_location; // mean (of ln value for lognormal)
  vector<lower=0>[P] shape_prior_scale; // sd (of ln value for lognormal)
  vector<lower=0>[K] flux_prior_scale; // 1e-10 erg cm-2 s-1, half-normal scale
  real<lower=0> cross_norm_prior_sd; // sd of ln C, lognormal prior centred on C = 1
  int<lower=2> G; // IPM grid points (any table when no IPM component)
  vector[G] ipm_mass; // Msun, increasing
  matrix[G, N] ipm_table; // ln(keV^-1), ln band ratios of the IPM per band
  matrix[G, N] ipm_table_d2; // their second derivatives in mass, natural spline
  int<lower=0, upper=1> use_priors; // 1: priors on; 0: off (maximum likelihood)
}
transformed data {
  real kev_per_flux_unit = 1e-10 / 1.602176634e-9; // keV in 1e-10 erg
  vector[N] log_crab = log_crab_photon_flux(energy_min, energy_max);
  vector[M] node_energy = exp(node_log_energy);
  vector[M_ref] ref_energy = exp(ref_log_energy);
}
parameters {
  vector<lower=0>[K] flux; // F_k, 1e-10 erg cm-2 s-1 in the flux band
  vector<lower=shape_lower, upper=shape_upper>[P] shape_free_value; // free shapes
  vector<lower=0>[D - 1] cross_norm_free; // C of datasets 2..D
}
transformed parameters {
  array[K, 3] real shape; // all shape parameters, fixed ones from data
  vector[D] cross_norm = append_row(rep_vector(1, 1), cross_norm_free); // C_d
  for (k in 1 : K) {
    for (i in 1 : 3) {
      if (shape_free[k, i] > 0) {
        shape[k, i] = shape_free_value[shape_free[k, i]];
      } else {
        shape[k, i] = shape_fixed[k, i];
      }
    }
  }
}
model {
  vector[N] model_mcrab = rep_vector(0, N);
  for (k in 1 : K) {
    model_mcrab += 1000 * flux[k] * kev_per_flux_unit
                   * exp(component_log_ratio(component_type[k], shape[k], energy_min,
                                             energy_max, node_log_energy, node_energy,
                                             node_log_weight, node_start, node_count,
                                             flux_band, ref_log_energy, ref_energy,
                                             ref_log_weight, ipm_mass, ipm_table,
                                             ipm_table_d2)
                         - log_crab);
  }
  model_mcrab .*= cross_norm[dataset];
  if (use_priors) {
    // Priors: half-normal component fluxes; shapes as chosen per parameter;
    // lognormal cross-normalisations ([COSI-PS]: instruments differ by up to 30 %)
    flux ~ normal(0, flux_prior_scale);
    for (p in 1 : P) {
      if (shape_prior[p] == 1) {
        shape_free_value[p] ~ normal(shape_prior_location[p], shape_prior_scale[p]);
      } else if (shape_prior[p] == 2) {
        shape_free_value[p] ~ lognormal(shape_prior_location[p], shape_prior_scale[p]);
      } else if (shape_prior[p] == 4) {
        target += -log(shape_free_value[p]);
      }
    }
    cross_norm_free ~ lognormal(0, cross_norm_prior_sd);
  }
  // Likelihood: Gaussian errors with the systematic in quadrature; censored limits
  {
    vector[N] sigma = sqrt(square(error) + square(systematic[dataset] .* model_mcrab));
    for (j in 1 : N) {
      if (upper_limit[j]) {
        target += std_normal_lcdf((value[j] - model_mcrab[j]) / sigma[j]);
      } else {
        target += normal_lpdf(value[j] | model_mcrab[j], sigma[j]);
      }
    }
  }
}
generated quantities {
  matrix[K, N] component_mcrab; // mCrab of each component per band (times C)
  vector[N] model_mcrab; // total predicted mCrab per band
  vector[N] log_lik; // ln p(value[j] | model) per band (censored for limits)
  vector[N] value_rep; // posterior predictive values, mCrab (uncensored)
  real flux_total = sum(flux); // 1e-10 erg cm-2 s-1 in the flux band
  vector[K] flux_fraction = flux / flux_total; // F_k / F_total
  {
    for (k in 1 : K) {
      component_mcrab[k] = (1000 * flux[k] * kev_per_flux_unit
                            * exp(component_log_ratio(component_type[k], shape[k],
                                                      energy_min, energy_max,
                                                      node_log_energy, node_energy,
                                                      node_log_weight, node_start,
                                                      node_count, flux_band,
                                                      ref_log_energy, ref_energy,
                                                      ref_log_weight, ipm_mass,
                                                      ipm_table, ipm_table_d2)
                                  - log_crab) .* cross_norm[dataset])';
    }
    model_mcrab = (rep_row_vector(1, K) * component_mcrab)';
    vector[N] sigma = sqrt(square(error) + square(systematic[dataset] .* model_mcrab));
    for (j in 1 : N) {
      if (upper_limit[j]) {
        log_lik[j] = std_normal_lcdf((value[j] - model_mcrab[j]) / sigma[j]);
      } else {
        log_lik[j] = normal_lpdf(value[j] | model_mcrab[j], sigma[j]);
      }
    }
    value_rep = to_vector(normal_rng(model_mcrab, sigma));
  }
}
