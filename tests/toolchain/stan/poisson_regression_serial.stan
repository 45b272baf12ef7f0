// Poisson regression, plain vectorised likelihood (reference for the reduce_sum twin).
data {
  int<lower=1> N;
  vector[N] x;
  array[N] int<lower=0> y;
}
parameters {
  real alpha;
  real beta;
}
model {
  alpha ~ normal(0, 2);
  beta ~ normal(0, 2);
  y ~ poisson_log(alpha + beta * x);
}
