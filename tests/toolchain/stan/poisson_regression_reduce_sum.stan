// Poisson regression with the likelihood summed by reduce_sum over slices of y.
functions {
  real partial_sum(array[] int y_slice, int start, int end, vector x, real alpha, real beta) {
    return poisson_log_lpmf(y_slice | alpha + beta * x[start : end]);
  }
}
data {
  int<lower=1> N;
  vector[N] x;
  array[N] int<lower=0> y;
  int<lower=1> grainsize;
}
parameters {
  real alpha;
  real beta;
}
model {
  alpha ~ normal(0, 2);
  beta ~ normal(0, 2);
  target += reduce_sum(partial_sum, y, grainsize, x, alpha, beta);
}
