// The same model as populated_bins_fused.stan, likelihood written in plain Stan.
data {
  int<lower=1> N;
  int<lower=1> K;
  int<lower=1> B;
  vector<lower=0>[N] counts;
  matrix<lower=0>[N, K] sky_response;
  vector<lower=0>[N] background;
  array[B + 1] int<lower=1> block_start;
  vector<lower=0>[K] template_totals;
  vector<lower=0>[B] block_totals;
}
transformed data {
  array[N] int block;
  for (b in 1 : B) {
    for (i in block_start[b] : (block_start[b + 1] - 1)) {
      block[i] = b;
    }
  }
}
parameters {
  vector<lower=0>[K] flux;
  vector<lower=0>[B] amplitude;
}
model {
  flux ~ normal(0, 10);
  amplitude ~ normal(1, 0.5);
  target += dot_product(counts, log(sky_response * flux + amplitude[block] .* background))
            - dot_product(flux, template_totals) - dot_product(amplitude, block_totals);
}
