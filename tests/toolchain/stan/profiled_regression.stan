// Linear regression with profile blocks (CmdStan writes profile_file) and a vector
// parameter (log_prob names its gradient columns g_alpha, g_beta.1, ..., g_sigma).
data {
  int<lower=1> N;
  int<lower=1> K;
  matrix[N, K] X;
  vector[N] y;
}
parameters {
  real alpha;
  vector[K] beta;
  real<lower=0> sigma;
}
model {
  profile("priors") {
    alpha ~ normal(0, 5);
    beta ~ normal(0, 5);
    sigma ~ exponential(1);
  }
  profile("likelihood") {
    y ~ normal_id_glm(X, alpha, beta, sigma);
  }
}
