// Poisson rate with a gamma prior: posterior gamma(alpha + sum y, beta + N).
data {
  int<lower=1> N;
  array[N] int<lower=0> y;
  real<lower=0> alpha; // prior shape
  real<lower=0> beta; // prior rate
}
parameters {
  real<lower=0> lambda;
}
model {
  lambda ~ gamma(alpha, beta);
  y ~ poisson(lambda);
}
