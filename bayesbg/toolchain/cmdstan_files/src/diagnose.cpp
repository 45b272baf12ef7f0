// diagnose: sampler diagnostics for Stan HMC (NUTS) output.
//
// Our own implementation of CmdStan's `bin/diagnose` for the bayesbg
// CmdStan-compatible installation (built from the Stan 2.35 headers shipped
// with httpstan).  It mirrors the report of CmdStan 2.35's diagnose, whose
// stdout cmdstanpy 1.3.2 returns from `CmdStanMCMC.diagnose()`:
//
//   diagnose file1.csv [file2.csv ...]
//
// Checks, in CmdStan's order and wording:
//   * transitions that hit the maximum tree depth (max_depth of each file),
//   * divergent transitions,
//   * E-BFMI below 0.3 -- computed per chain (CmdStan 2.35 pools the chains),
//   * parameters with fewer than 0.001 effective draws per transition
//     (stan::mcmc::chains::effective_sample_size),
//   * parameters with split R-hat above 1.05
//     (stan::mcmc::chains::split_potential_scale_reduction).
// The report ends with "Processing complete, no problems detected." or
// "Processing complete." when a check failed; the exit code is 0 either way.
//
// Saved warmup draws are excluded (detected from the position of the
// "# Adaptation terminated" block).  Unlike CmdStan, which skips files it
// cannot open, an unreadable or malformed file is an error: one line on
// stderr and a non-zero exit code.

#include "stan_csv_files.hpp"

#include <stan/io/stan_csv_reader.hpp>
#include <stan/mcmc/chains.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

const double kRhatMax = 1.05;         // split R-hat threshold
const double kEssPerDrawMin = 0.001;  // effective draws per transition
const double kEbfmiMin = 0.3;         // E-BFMI threshold

using bayesbg::ChainFile;
using bayesbg::Failure;
using bayesbg::assemble_chains;
using bayesbg::read_chain;

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

// Percentage with two significant digits, without exponent ("0.4", "12").
std::string percent(long count, long total) {
  double pct = 100.0 * static_cast<double>(count) / static_cast<double>(total);
  char buf[32];
  if (pct >= 10)
    std::snprintf(buf, sizeof buf, "%.0f", pct);
  else
    std::snprintf(buf, sizeof buf, "%.2g", pct);
  return buf;
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += (i ? ", " : "") + names[i];
  return s;
}

// E-BFMI of one chain: sum of squared successive energy differences over the
// sum of squared deviations from the mean energy (CmdStan's estimator).
double e_bfmi(const Eigen::VectorXd& energy) {
  const Eigen::Index n = energy.size();
  if (n < 2)
    return std::numeric_limits<double>::quiet_NaN();
  double num = (energy.tail(n - 1) - energy.head(n - 1)).squaredNorm();
  double den = (energy.array() - energy.mean()).square().sum();
  return num / den;
}

// Runs all checks and prints the report; returns true if a problem was found.
bool report(std::ostream& out, const stan::mcmc::chains<>& chains,
            const std::vector<ChainFile>& files) {
  const long num_draws = chains.num_kept_samples();
  bool problems = false;
  std::vector<std::string> low_ess, high_rhat;

  for (int i = 0; i < chains.num_params(); ++i) {
    const std::string& name = chains.param_name(i);
    if (name == "treedepth__") {
      out << "Checking sampler transitions treedepth.\n";
      long n_max = 0;
      for (int c = 0; c < chains.num_chains(); ++c) {
        const int max_depth = files[c].csv.metadata.max_depth;
        n_max += (chains.samples(c, i).array() >= max_depth).count();
      }
      if (n_max > 0) {
        problems = true;
        const int max_depth = files[0].csv.metadata.max_depth;
        out << n_max << " of " << num_draws << " (" << percent(n_max, num_draws)
            << "%) transitions hit the maximum treedepth limit of " << max_depth
            << ", or 2^" << max_depth << " leapfrog steps.\n"
            << "Trajectories that are prematurely terminated due to this "
               "limit will result in slow exploration.\n"
            << "For optimal performance, increase this limit.\n\n";
      } else {
        out << "Treedepth satisfactory for all transitions.\n\n";
      }
    } else if (name == "divergent__") {
      out << "Checking sampler transitions for divergences.\n";
      long n_div = std::lround(chains.samples(i).sum());
      if (n_div > 0) {
        problems = true;
        out << n_div << " of " << num_draws << " (" << percent(n_div, num_draws)
            << "%) transitions ended with a divergence.\n"
            << "These divergent transitions indicate that HMC is not fully "
               "able to explore the posterior distribution.\n"
            << "Try increasing adapt delta closer to 1.\n"
            << "If this doesn't remove all divergences, try to reparameterize "
               "the model.\n\n";
      } else {
        out << "No divergent transitions found.\n\n";
      }
    } else if (name == "energy__") {
      out << "Checking E-BFMI - sampler transitions HMC potential energy.\n";
      bool low = false;
      for (int c = 0; c < chains.num_chains(); ++c) {
        const double bfmi = e_bfmi(chains.samples(c, i));
        if (bfmi < kEbfmiMin) {
          low = true;
          char value[32];
          std::snprintf(value, sizeof value, "%.2g", bfmi);
          out << "Chain " << c + 1 << ": The E-BFMI, " << value
              << ", is below the nominal threshold of " << kEbfmiMin
              << " which suggests that HMC may have trouble exploring the "
                 "target distribution.\n";
        }
      }
      if (low) {
        problems = true;
        out << "If possible, try to reparameterize the model.\n\n";
      } else {
        out << "E-BFMI satisfactory.\n\n";
      }
    } else if (name.find("__") == std::string::npos) {
      // NaN (constant or non-finite column) fails both comparisons: not flagged.
      if (chains.effective_sample_size(i) / num_draws < kEssPerDrawMin)
        low_ess.push_back(name);
      if (chains.split_potential_scale_reduction(i) > kRhatMax)
        high_rhat.push_back(name);
    }
  }

  if (!low_ess.empty()) {
    problems = true;
    out << "The following parameters had fewer than " << kEssPerDrawMin
        << " effective draws per transition:\n"
        << "  " << join(low_ess) << "\n"
        << "Such low values indicate that the effective sample size estimators "
           "may be biased high and actual performance may be substantially "
           "lower than quoted.\n\n";
  } else {
    out << "Effective sample size satisfactory.\n\n";
  }

  if (!high_rhat.empty()) {
    problems = true;
    out << "The following parameters had split R-hat greater than " << kRhatMax
        << ":\n"
        << "  " << join(high_rhat) << "\n"
        << "Such high values indicate incomplete mixing and biased "
           "estimation.\n"
        << "You should consider regularizing your model with additional prior "
           "information or a more effective parameterization.\n\n";
  } else {
    out << "Split R-hat values satisfactory all parameters.\n\n";
  }
  return problems;
}

void usage() {
  std::cout << "USAGE:  diagnose <filename 1> [<filename 2> ... <filename N>]\n"
            << "Checks Stan HMC sampler output (treedepth, divergences, E-BFMI,\n"
            << "effective sample size, split R-hat).\n\n";
}

}  // namespace

int main(int argc, const char* argv[]) {
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage();
      return 0;
    }
    paths.push_back(arg);
  }
  if (paths.empty()) {
    usage();
    return 0;
  }
  try {
    std::vector<ChainFile> files;
    for (const auto& path : paths)
      files.push_back(read_chain(path));
    const stan::mcmc::chains<> chains = assemble_chains(files);

    std::ostringstream out;
    out << "Processing csv files: " << join(paths) << "\n\n";
    bool problems = report(out, chains, files);
    out << (problems ? "Processing complete.\n"
                     : "Processing complete, no problems detected.\n");
    std::cout << out.str() << std::flush;
  } catch (const std::exception& e) {
    std::cerr << "diagnose: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
