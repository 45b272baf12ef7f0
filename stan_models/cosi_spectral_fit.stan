// Forward-folded spectral fit of a COSI point source, alone or jointly with the spectra
// of other instruments (docs/cosi_spectral.md; [COSI-PS] sections 4-5, docs/equations.md sections 1, 4):
//   f(E) = N S(E; shape) exp(-N_H sigma(E))    photon spectrum (forward_fold.stanfunctions)
//   F[x] = integral of f over true-energy bin x, every instrument's bins (quadrature)
// COSI, per segment s = (measured band e, time bin t) and data-space bin c:
//   g[s] = C_cosi a[e] sum_j R[s, j] F[j]      expected source counts of the segment
//   m[s, c] = g[s] P[s, c] + A[block(s)] Bg[s, c]
//   d[s, c] ~ Poisson(m[s, c]);  only populated bins enter d log m, sum m from totals
// R the energy response along the source's path (counts per ph cm-2 s-1 in true bin j),
// a[e] the atmospheric correction factor of band e ([COSI-PS] 4.2), P the fraction of
// the segment's source counts in bin c (the imaging response of band e), Bg the
// background model (counts for A = 1), A one amplitude per band and time block.
// Other instruments, channel k of dataset d(k):
//   mu[k] = C[d] sum_x M[k, x] F[x]            M = exposure x RMF x ARF (counts) or
//                                               RMF x ARF (rates) or 1000 / Crab (mCrab)
//   Poisson channels: n[k] ~ Poisson(mu[k] + b[k]) (b the known background counts)
//   Gaussian channels: y[k] ~ N(mu[k], sqrt(sigma[k]^2 + (sys[d] mu[k])^2))
// Dataset 1 is the reference (C = 1); COSI is dataset D + 1 when present.
// Amplitude: N set by the unabsorbed photon flux in flux_band (sampled, ph cm-2 s-1).
// fused_likelihood = 1: the COSI sum d log m and its gradient in one C++ pass
// (segment_scaled_loglik_chunked in populated_bins_loglik.hpp); 0: the Stan expression.
// bayesbg-user-header: populated_bins_loglik.hpp
functions {
  #include forward_fold.stanfunctions
  real segment_scaled_loglik_chunked(vector scale, vector amplitude, data vector counts,
                                     data vector sky, data vector background,
                                     data array[] int segment_start,
                                     data array[] int segment_block, data int chunk_size);
  vector segment_scaled_loglik_per_segment(vector scale, vector amplitude,
                                           data vector counts, data vector sky,
                                           data vector background,
                                           data array[] int segment_start,
                                           data array[] int segment_block);
}
data {
  // Spectral model
  int<lower=1, upper=4> spectrum_type; // 1 powerlaw, 2 cutoffpl, 3 bknpower, 4 band
  int<lower=1, upper=3> P; // shape parameters of the type
  array[P] int<lower=0> shape_free_index; // 0: fixed; q: free parameter q
  vector[P] shape_fixed; // values of fixed shape parameters (keV or none)
  int<lower=0, upper=P> Q; // free shape parameters
  vector[Q] shape_lower; // their bounds
  vector[Q] shape_upper;
  array[Q] int<lower=1, upper=2> shape_prior; // 1 normal, 2 lognormal (of the value)
  vector[Q] shape_prior_location; // mean (of ln value for lognormal)
  vector<lower=0>[Q] shape_prior_scale; // sd (of ln value for lognormal)
  real<lower=0> pivot; // keV, pivot of the Band function
  real<lower=0> nh; // 1e22 cm-2, photoelectric absorption column (fixed)
  // Amplitude: unabsorbed photon flux in flux_band
  int<lower=1> R; // quadrature nodes of flux_band
  vector[R] flux_band_log_energy; // ln keV
  vector[R] flux_band_log_weight; // ln keV, ln of the weights with the factor E
  vector[2] log_flux_prior; // mean and sd of ln photon_flux (ph cm-2 s-1)
  // True-energy bins of every instrument, with quadrature nodes
  int<lower=1> X; // true-energy bins
  int<lower=1> M; // nodes
  vector[M] node_log_energy; // ln keV
  vector[M] node_log_weight; // ln keV
  vector<lower=0>[M] node_sigma; // sigma(E) per 1e22 H cm-2 (Morrison & McCammon 1983)
  array[X] int<lower=1, upper=M> node_start; // first node of each bin
  array[X] int<lower=1> node_count; // nodes of each bin
  // Photon fluxes in report bands (unabsorbed), e.g. [COSI-PS]'s 325-480 keV
  int<lower=0> G; // report bands
  int<lower=0> M_report; // their nodes
  vector[M_report] report_log_energy; // ln keV
  vector[M_report] report_log_weight; // ln keV
  array[G] int<lower=1> report_start; // first node of each report band
  array[G] int<lower=1> report_count; // nodes of each report band
  // COSI
  int<lower=0, upper=1> has_cosi; // 1: COSI counts are fitted
  int<lower=0> J; // COSI true-energy bins
  array[J] int<lower=1, upper=X> cosi_true_bin; // their indices among the X bins
  int<lower=0> E; // COSI measured-energy bands
  int<lower=0> S; // segments (band, time bin)
  array[S] int<lower=1, upper=max(E, 1)> segment_band; // band of each segment
  matrix<lower=0>[S, J] segment_response; // counts per ph cm-2 s-1 in true bin j
  vector<lower=0>[S] pattern_total; // sum of P over all data-space bins (<= 1)
  int<lower=0> N; // populated COSI bins, sorted by segment
  array[N] int<lower=1> counts; // observed counts d
  vector<lower=0>[N] sky_pattern; // P[s, c] at the populated bins
  vector<lower=0>[N] background; // Bg[s, c] at the populated bins, counts for A = 1
  array[S + 1] int<lower=1> segment_start; // bins of s: segment_start[s] .. [s + 1] - 1
  int<lower=0> B; // background amplitudes (band x time block)
  array[S] int<lower=1, upper=max(B, 1)> segment_block; // amplitude of each segment
  vector<lower=0>[B] background_total; // sum of Bg over all bins of each amplitude
  real<lower=0> background_prior_sd; // A ~ N+(1, sd)
  vector<lower=0>[B] amplitude_log_scale; // sampler's scale of ln A (e.g. 1 / sqrt(counts))
  vector<lower=0>[E] atmospheric_correction; // a[e], multiplies the source counts
  int<lower=0> grainsize; // chunk of populated bins of the fused pass; 0: default
  int<lower=0, upper=1> fused_likelihood; // 1: C++ pass; 0: plain Stan
  // Other instruments
  int<lower=0> D; // datasets besides COSI
  int<lower=0> K; // channels of all of them
  array[K] int<lower=1, upper=max(D, 1)> channel_dataset; // dataset of each channel
  int<lower=0> W; // stored entries of the channel response M
  vector[W] response_value; // M: counts, counts s-1 or mCrab per ph cm-2 s-1
  array[W] int<lower=1, upper=X> response_column; // true-energy bin of each entry
  array[K + 1] int<lower=1> response_row_start; // start of each channel's entries
  int<lower=0, upper=K> K_poisson; // Poisson channels
  array[K_poisson] int<lower=1, upper=K> poisson_channel; // their indices
  array[K_poisson] int<lower=0> poisson_count; // observed counts
  vector<lower=0>[K_poisson] poisson_background; // known background counts
  int<lower=0, upper=K> K_gauss; // Gaussian channels
  array[K_gauss] int<lower=1, upper=K> gauss_channel; // their indices
  vector[K_gauss] gauss_value; // observed value
  vector<lower=0>[K_gauss] gauss_error; // 1-sigma error
  vector<lower=0>[max(D, 1)] systematic; // fractional systematic error per dataset
  real<lower=0> cross_norm_prior_sd; // sd of ln C, C_d ~ lognormal(0, sd)
  int<lower=0, upper=1> use_priors; // 1: priors on; 0: off (maximum likelihood)
}
transformed data {
  int n_norm = D + has_cosi; // cross-normalisations, dataset 1 fixed at 1
  vector[R] flux_band_energy = exp(flux_band_log_energy);
  vector[M] node_energy = exp(node_log_energy);
  // the quadrature as a sparse X x M matrix of weights (keV, the factor E included)
  vector[M] node_weight = exp(node_log_weight);
  array[M] int node_column;
  array[X + 1] int node_row_start;
  for (x in 1 : X) {
    node_row_start[x] = node_start[x];
    for (i in node_start[x] : (node_start[x] + node_count[x] - 1)) {
      node_column[i] = i;
    }
  }
  node_row_start[X + 1] = M + 1;
  for (x in 2 : X) {
    if (node_start[x] != node_start[x - 1] + node_count[x - 1]) {
      reject("node_start: the nodes of each bin must follow the previous bin's");
    }
  }
  vector[M_report] report_energy = exp(report_log_energy);
  vector[N] counts_real = to_vector(counts);
  array[N] int bin_segment;
  vector[S] log_factorial_segment = rep_vector(0, S); // sum of log d! per segment
  if (n_norm < 1) {
    reject("nothing to fit: no COSI counts and no other dataset");
  }
  for (s in 1 : S) {
    for (i in segment_start[s] : (segment_start[s + 1] - 1)) {
      bin_segment[i] = s;
      log_factorial_segment[s] += lgamma(counts_real[i] + 1);
    }
  }
  if (S > 0 && segment_start[S + 1] != N + 1) {
    reject("segment_start[S + 1] must be N + 1 = ", N + 1);
  }
  real log_factorial = sum(log_factorial_segment)
                       + sum(lgamma(to_vector(poisson_count) + 1));
  array[N] int bin_block;
  for (i in 1 : N) {
    bin_block[i] = segment_block[bin_segment[i]];
  }
}
parameters {
  real<lower=0> photon_flux; // ph cm-2 s-1 in flux_band, unabsorbed
  vector<lower=shape_lower, upper=shape_upper>[Q] shape_free; // free shape parameters
  vector<lower=0>[n_norm - 1] cross_norm_free; // C of datasets 2 ..
  // ln A, per COSI band and time block, sampled on the scale amplitude_log_scale: the
  // unconstrained coordinate is ln A / scale, of order 1 even where A is known to 0.3 %
  // (Stan regularises its metric estimates towards 1e-3, which would otherwise inflate
  // the smallest variances several times and shrink the step size)
  vector<multiplier=amplitude_log_scale>[B] log_background_amplitude;
}
transformed parameters {
  vector[P] shape; // all shape parameters
  real log_norm; // ln N: ph cm-2 s-1 keV-1 at 1 keV (types 1-3) or the pivot (Band)
  vector[X] bin_flux; // photon flux per true-energy bin, ph cm-2 s-1 (absorbed)
  vector[n_norm] cross_norm = append_row(rep_vector(1, 1), cross_norm_free);
  vector[B] background_amplitude = exp(log_background_amplitude); // A
  for (p in 1 : P) {
    shape[p] = shape_free_index[p] > 0 ? shape_free[shape_free_index[p]] : shape_fixed[p];
  }
  log_norm = log(photon_flux)
             - log_sum_exp(flux_band_log_weight
                           + log_photon_shape(spectrum_type, flux_band_log_energy,
                                              flux_band_energy, shape, pivot));
  // F[x] = N sum_{nodes of x} w exp(ln S(E) - N_H sigma(E)): one sparse product
  bin_flux = exp(log_norm)
             * csr_matrix_times_vector(X, M, node_weight, node_column, node_row_start,
                                       exp(log_photon_shape(spectrum_type, node_log_energy,
                                                            node_energy, shape, pivot)
                                           - nh * node_sigma));
}
model {
  if (use_priors) {
    // Priors: lognormal photon flux, shapes as configured, lognormal cross-normalisations
    // (instruments differ by up to ~30 %, [COSI-PS] 5.1), A ~ N+(1, sd) ([COSI-511] eq. 11);
    // without priors (maximum likelihood) no Jacobian either: the likelihood of ln A
    log(photon_flux) ~ normal(log_flux_prior[1], log_flux_prior[2]);
    target += -log(photon_flux); // the prior is stated on ln photon_flux
    for (q in 1 : Q) {
      if (shape_prior[q] == 1) {
        shape_free[q] ~ normal(shape_prior_location[q], shape_prior_scale[q]);
      } else {
        shape_free[q] ~ lognormal(shape_prior_location[q], shape_prior_scale[q]);
      }
    }
    cross_norm_free ~ lognormal(0, cross_norm_prior_sd);
    background_amplitude ~ normal(1, background_prior_sd);
    target += sum(log_background_amplitude); // the prior is on A: Jacobian of A = e^(ln A)
  }
  // Likelihood of the COSI counts: sum_{d > 0} d log m - sum m - sum log d!
  if (has_cosi) {
    vector[S] source = cross_norm[n_norm] * atmospheric_correction[segment_band]
                       .* (segment_response * bin_flux[cosi_true_bin]);
    if (fused_likelihood) {
      target += segment_scaled_loglik_chunked(source, background_amplitude, counts_real,
                                              sky_pattern, background, segment_start,
                                              segment_block, grainsize);
    } else {
      target += dot_product(counts_real,
                            log(source[bin_segment] .* sky_pattern
                                + background_amplitude[bin_block]
                                  .* background));
    }
    target += -dot_product(source, pattern_total)
              - dot_product(background_amplitude, background_total);
  }
  // Likelihood of the other instruments' channels
  if (K > 0) {
    vector[K] mu = cross_norm[channel_dataset]
                   .* csr_matrix_times_vector(K, X, response_value, response_column,
                                              response_row_start, bin_flux);
    if (K_poisson > 0) {
      target += poisson_lpmf(poisson_count | mu[poisson_channel] + poisson_background);
    }
    if (K_gauss > 0) {
      vector[K_gauss] pred = mu[gauss_channel];
      target += normal_lpdf(gauss_value | pred,
                            sqrt(square(gauss_error)
                                 + square(systematic[channel_dataset[gauss_channel]]
                                          .* pred)));
    }
  }
  target += -log_factorial;
}
generated quantities {
  real norm = exp(log_norm); // ph cm-2 s-1 keV-1 at 1 keV (types 1-3) or the pivot (Band)
  vector[G] report_flux; // unabsorbed photon flux in each report band, ph cm-2 s-1
  vector[E] cosi_source_counts = rep_vector(0, E); // expected source counts per band
  vector[E] cosi_background_counts = rep_vector(0, E); // expected background per band
  array[E] int cosi_counts_rep; // replicated counts per band
  vector[E + K] log_lik; // COSI per band (with log d!), then each channel
  vector[K] channel_model; // mu per channel (times C)
  {
    vector[M_report] terms = report_log_weight
                             + log_photon_shape(spectrum_type, report_log_energy,
                                                report_energy, shape, pivot);
    for (g in 1 : G) {
      report_flux[g] = exp(log_norm
                           + log_sum_exp(segment(terms, report_start[g], report_count[g])));
    }
  }
  if (has_cosi) {
    vector[S] source = cross_norm[n_norm] * atmospheric_correction[segment_band]
                       .* (segment_response * bin_flux[cosi_true_bin]);
    vector[S] populated; // sum of d log m per segment
    if (fused_likelihood) {
      populated = segment_scaled_loglik_per_segment(source, background_amplitude,
                                                    counts_real, sky_pattern, background,
                                                    segment_start, segment_block);
    } else {
      vector[N] terms = counts_real
                        .* log(source[bin_segment] .* sky_pattern
                               + background_amplitude[bin_block] .* background);
      populated = rep_vector(0, S);
      for (i in 1 : N) {
        populated[bin_segment[i]] += terms[i];
      }
    }
    log_lik[1 : E] = rep_vector(0, E);
    for (s in 1 : S) {
      cosi_source_counts[segment_band[s]] += source[s] * pattern_total[s];
      log_lik[segment_band[s]] += populated[s] - log_factorial_segment[s];
    }
    // background counts per band: amplitude totals split by band through the segments'
    // blocks (each block belongs to one band)
    {
      array[B] int block_band = rep_array(0, B);
      for (s in 1 : S) {
        block_band[segment_block[s]] = segment_band[s];
      }
      for (b in 1 : B) {
        cosi_background_counts[block_band[b]] += background_amplitude[b]
                                                 * background_total[b];
      }
    }
    log_lik[1 : E] -= cosi_source_counts + cosi_background_counts;
    cosi_counts_rep = poisson_rng(cosi_source_counts + cosi_background_counts);
  } else {
    cosi_counts_rep = rep_array(0, E);
  }
  if (K > 0) {
    channel_model = cross_norm[channel_dataset]
                    .* csr_matrix_times_vector(K, X, response_value, response_column,
                                               response_row_start, bin_flux);
    for (k in 1 : K_poisson) {
      int c = poisson_channel[k];
      log_lik[E + c] = poisson_lpmf(poisson_count[k] | channel_model[c]
                                                        + poisson_background[k]);
    }
    for (k in 1 : K_gauss) {
      int c = gauss_channel[k];
      real sd = sqrt(square(gauss_error[k])
                     + square(systematic[channel_dataset[c]] * channel_model[c]));
      log_lik[E + c] = normal_lpdf(gauss_value[k] | channel_model[c], sd);
    }
  }
}
