// Normal mean with known sd and a normal prior: conjugate normal posterior.
data {
  int<lower=1> N;
  vector[N] y;
  real<lower=0> sigma; // known observation sd
  real mu0; // prior mean
  real<lower=0> tau0; // prior sd
}
parameters {
  real mu;
}
model {
  mu ~ normal(mu0, tau0);
  y ~ normal(mu, sigma);
}
generated quantities {
  vector[N] log_lik;
  for (n in 1:N) log_lik[n] = normal_lpdf(y[n] | mu, sigma);
}
