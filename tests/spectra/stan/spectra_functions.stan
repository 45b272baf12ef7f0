// Exposes the functions of spectra.stanfunctions to tests: run with fixed_param,
// every output in generated quantities, compared with bayesbg.spectra.band_integrals.
functions {
  #include spectra.stanfunctions
}
data {
  int<lower=1> N; // bands
  vector[N] energy_min; // keV
  vector[N] energy_max; // keV
  int<lower=1> M; // quadrature nodes of all bands
  vector[M] node_log_energy; // ln keV
  vector[M] node_log_weight; // ln keV
  array[N] int node_start;
  array[N] int node_count;
  vector[2] flux_band; // keV
  int<lower=1> M_ref;
  vector[M_ref] ref_log_energy;
  vector[M_ref] ref_log_weight;
  int<lower=1> T; // arguments of log_expm1_ratio
  vector[T] t;
  int<lower=1> S; // parameter sets
  array[S, 3] real shape_cpl; // index, ecut, -
  array[S, 3] real shape_bkn; // index1, eb, index2
  vector[S] index; // powerlaw indices
  vector<lower=0>[S] ecut; // expcutoff energies, keV
  vector[S] mass; // IPM masses, Msun
  int<lower=2> G;
  vector[G] ipm_mass;
  matrix[G, N] ipm_table;
  matrix[G, N] ipm_table_d2;
}
generated quantities {
  vector[T] expm1_ratio;
  matrix[S, N] powerlaw;
  matrix[S, N] bknpower;
  matrix[S, N] expcutoff0;
  matrix[S, N] expcutoff1;
  matrix[S, N] cutoffpl;
  matrix[S, N] ipm;
  vector[N] crab = log_crab_photon_flux(energy_min, energy_max);
  array[5] matrix[S, N] ratio;
  {
    vector[M] node_energy = exp(node_log_energy);
    vector[M_ref] ref_energy = exp(ref_log_energy);
    for (i in 1 : T) {
      expm1_ratio[i] = log_expm1_ratio(t[i]);
    }
    for (s in 1 : S) {
      for (j in 1 : N) {
        powerlaw[s, j] = log_powerlaw_integral(energy_min[j], energy_max[j], index[s]);
        bknpower[s, j] = log_bknpower_integral(energy_min[j], energy_max[j],
                                               shape_bkn[s, 1], shape_bkn[s, 2],
                                               shape_bkn[s, 3]);
        expcutoff0[s, j] = log_expcutoff_integral(energy_min[j], energy_max[j], ecut[s], 0);
        expcutoff1[s, j] = log_expcutoff_integral(energy_min[j], energy_max[j], ecut[s], 1);
        cutoffpl[s, j] = log_cutoffpl_integral(
                           segment(node_log_energy, node_start[j], node_count[j]),
                           segment(node_energy, node_start[j], node_count[j]),
                           segment(node_log_weight, node_start[j], node_count[j]),
                           shape_cpl[s, 1], shape_cpl[s, 2]);
      }
      ipm[s] = ipm_log_ratio(mass[s], ipm_mass, ipm_table, ipm_table_d2)';
      array[5, 3] real shapes = {{index[s], 0, 0}, shape_cpl[s], shape_bkn[s],
                                 {ecut[s], 0, 0}, {mass[s], 0, 0}};
      for (type in 1 : 5) {
        ratio[type][s] = component_log_ratio(type, shapes[type], energy_min, energy_max,
                                             node_log_energy, node_energy,
                                             node_log_weight, node_start, node_count,
                                             flux_band, ref_log_energy, ref_energy,
                                             ref_log_weight, ipm_mass, ipm_table,
                                             ipm_table_d2)';
      }
    }
  }
}
