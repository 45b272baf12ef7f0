// Beta-binomial: theta ~ beta(a, b), y ~ binomial(n, theta); posterior beta(a + y, b + n - y).
data {
  int<lower=0> n; // trials
  int<lower=0, upper=n> y; // successes
  real<lower=0> a; // prior successes
  real<lower=0> b; // prior failures
}
parameters {
  real<lower=0, upper=1> theta;
}
model {
  theta ~ beta(a, b);
  y ~ binomial(n, theta);
}
generated quantities {
  real odds = theta / (1 - theta); // deterministic function of the draw
  real log_lik = binomial_lpmf(y | n, theta);
}
