// A function defined in C++ (external_twice_header.hpp), compiled with --allow-undefined.
functions {
  real twice(real x);
}
data {
  real y;
}
parameters {
  real mu;
}
model {
  mu ~ normal(0, 10);
  y ~ normal(twice(mu), 1);
}
