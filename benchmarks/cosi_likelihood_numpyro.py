"""The COSI template fit written in numpyro (JAX, CPU, float64), for benchmarks/cosi_likelihood.py.

The same posterior as ``stan_models/cosi_template_fit.stan`` (docs/equations.md section 1):

    log L = sum_{d > 0} d log m - sum_k F_k sum(S_k) - sum_b A_b N_b  (+ constant)
    m_i = sum_k F_k S_ik + A_b(i) Bg_i   (populated bins only)
    F_k ~ N+(mu_k, sigma_k),  A_b ~ N+(1, sigma_A)

Run as a child process of ``cosi_likelihood.py`` (one core; the parent sets the CPU
affinity and ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``
before JAX starts)::

    python benchmarks/cosi_likelihood_numpyro.py PROBLEM.npz RESULT.json [--warmup 500]
        [--samples 500] [--seed 1] [--gradients 300]

``PROBLEM.npz`` holds ``counts`` (N,), ``sky`` (N, K), ``background`` (N,), ``bin_block``
(N, 0-based), ``sky_total`` (K,), ``background_total`` (B,), ``flux_prior_mean``,
``flux_prior_sd`` (K,), ``background_prior_sd`` () and ``points`` (P, K + B) of
constrained parameters at which the log density is reported (for the equality check).
The result JSON holds the gradient time (median over repeated calls of the jitted
value-and-gradient of the potential), the log density at ``points`` (with the log
Jacobian of the exp transform, as Stan's ``log_prob`` with ``jacobian=True``), and the
NUTS figures: the draws of a second sampling run of ``samples`` draws that continues
the first (so JIT compilation is excluded from its time), its CPU and wall time, and
its leapfrog steps.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def _model_fn():
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    def model(counts, sky, background, bin_block, sky_total, background_total,
              flux_prior_mean, flux_prior_sd, background_prior_sd):
        n_block = background_total.shape[0]
        flux = numpyro.sample(
            "flux", dist.TruncatedNormal(flux_prior_mean, flux_prior_sd, low=0.0).to_event(1))
        amplitude = numpyro.sample(
            "background_amplitude",
            dist.TruncatedNormal(jnp.ones(n_block), background_prior_sd, low=0.0).to_event(1))
        expected = sky @ flux + amplitude[bin_block] * background
        numpyro.factor("log_likelihood", jnp.dot(counts, jnp.log(expected))
                       - jnp.dot(sky_total, flux) - jnp.dot(background_total, amplitude))

    return model


def run(problem: Path, result: Path, *, warmup: int, samples: int, seed: int,
        gradients: int) -> dict:
    """Measure gradient time and NUTS on one core; write and return the figures."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from numpyro.infer import MCMC, NUTS
    from numpyro.infer.util import initialize_model

    arrays = np.load(problem)
    args = tuple(jnp.asarray(arrays[name]) for name in (
        "counts", "sky", "background", "bin_block", "sky_total", "background_total",
        "flux_prior_mean", "flux_prior_sd", "background_prior_sd"))
    n_template = arrays["sky"].shape[1]
    model = _model_fn()

    # Gradient of the potential (minus the log density on the unconstrained scale).
    info = initialize_model(jax.random.PRNGKey(seed), model, model_args=args)
    value_and_grad = jax.jit(jax.value_and_grad(info.potential_fn))
    params = info.param_info.z
    jax.block_until_ready(value_and_grad(params))  # compile
    times = []
    for _ in range(gradients):
        start = time.perf_counter()
        jax.block_until_ready(value_and_grad(params))
        times.append(time.perf_counter() - start)
    cpu_start = time.process_time()
    for _ in range(gradients):
        jax.block_until_ready(value_and_grad(params))
    grad_cpu = (time.process_time() - cpu_start) / gradients

    # Log density at given constrained points (with the log Jacobian of exp).
    log_density = []
    for point in arrays["points"]:
        unconstrained = {"flux": jnp.log(point[:n_template]),
                         "background_amplitude": jnp.log(point[n_template:])}
        log_density.append(-float(info.potential_fn(unconstrained)))

    kernel = NUTS(model, target_accept_prob=0.8, max_tree_depth=10)
    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=samples, num_chains=1,
                progress_bar=False)
    start = time.perf_counter()
    mcmc.warmup(jax.random.PRNGKey(seed), *args, collect_warmup=False)
    mcmc.run(mcmc.post_warmup_state.rng_key, *args,
             extra_fields=("num_steps",))  # first sampling run: includes compilation
    first = time.perf_counter() - start
    jax.block_until_ready(mcmc.get_samples())
    mcmc.post_warmup_state = mcmc.last_state
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    mcmc.run(mcmc.post_warmup_state.rng_key, *args, extra_fields=("num_steps",))
    jax.block_until_ready(mcmc.get_samples())
    wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
    draws = mcmc.get_samples()
    steps = np.asarray(mcmc.get_extra_fields()["num_steps"])
    figures = {
        "grad_s": float(np.median(times)),
        "grad_s_min": float(np.min(times)),
        "grad_cpu_s": grad_cpu,
        "log_density": log_density,
        "warmup_and_first_run_s": first,
        "sampling_wall_s": wall,
        "sampling_cpu_s": cpu,
        "leapfrog_steps": int(steps.sum()),
        "flux": np.asarray(draws["flux"]).tolist(),
        "background_amplitude": np.asarray(draws["background_amplitude"]).tolist(),
        "jax_version": jax.__version__,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }
    partial = result.with_name(result.name + ".partial")
    partial.write_text(json.dumps(figures))
    os.replace(partial, result)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("problem", type=Path)
    parser.add_argument("result", type=Path)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gradients", type=int, default=300)
    args = parser.parse_args(argv)
    run(args.problem, args.result, warmup=args.warmup, samples=args.samples, seed=args.seed,
        gradients=args.gradients)
    return 0


if __name__ == "__main__":
    sys.exit(main())
