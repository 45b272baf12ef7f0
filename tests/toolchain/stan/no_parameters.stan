// No parameters: draws come from generated quantities only (CmdStan runs fixed_param).
data {
  int<lower=1> N; // number of draws per iteration
  real<lower=0> rate; // Poisson rate
}
generated quantities {
  array[N] int counts = poisson_rng(rep_vector(rate, N));
}
