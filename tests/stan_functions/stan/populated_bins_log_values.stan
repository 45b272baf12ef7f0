// sum d log m of stan_models/functions/populated_bins_loglik.hpp per group of bins, with
// m = background given as data (test program for the vectorised log).
functions {
  real populated_bins_loglik(vector flux, vector amplitude, data vector counts,
                             data matrix sky_response, data vector background,
                             data array[] int block_start);
  vector populated_bins_loglik_per_time(vector flux, vector amplitude, data vector counts,
                                        data matrix sky_response, data vector background,
                                        data array[] int block_start,
                                        data array[] int nonzero_per_time);
}
data {
  int<lower=1> N; // values
  int<lower=1> G; // groups of consecutive values
  vector<lower=0>[N] values; // m
  array[G] int<lower=0> group_size; // values per group, summing to N
}
generated quantities {
  vector[G] group_log_sum = populated_bins_loglik_per_time(
      rep_vector(0, 1), rep_vector(1, 1), rep_vector(1, N), rep_matrix(0, N, 1), values,
      {1, N + 1}, group_size);
  // m = 0 everywhere: a likelihood of 0, -inf (as log(0) in a Stan expression)
  real zero_rate_loglik = populated_bins_loglik(rep_vector(0, 1), rep_vector(0, 1),
                                                rep_vector(1, N), rep_matrix(0, N, 1),
                                                values, {1, N + 1});
}
