// stansummary: summary statistics of Stan HMC sampler output.
//
// Our own implementation of CmdStan's `bin/stansummary` for the bayesbg
// CmdStan-compatible installation (built from the Stan 2.35 headers shipped
// with httpstan).  It mirrors the output format of CmdStan 2.35's stansummary,
// which is what cmdstanpy 1.3.2 (`CmdStanMCMC.summary()`) relies on:
//
//   stansummary [--percentiles=5,50,95] [--sig_figs=N] [--csv_filename=FILE]
//               [--autocorr=N] file1.csv [file2.csv ...]
//
// * The console report ("Inference for Stan model: ...", a fixed-width table
//   with lp__, the sampler diagnostics and the model parameters) goes to
//   stdout.
// * With --csv_filename the table is also written as CSV with the columns
//   name,Mean,MCSE,StdDev,<p>%...,N_Eff,N_Eff/s,R_hat (names quoted, one row
//   per quantity), followed by '#'-prefixed comment lines with the run info.
//   Values are written with N significant digits (--sig_figs, default 6).
//
// Statistics are those of CmdStan 2.35, computed by stan::mcmc::chains<>:
// mean, sd, quantiles (chains::quantiles), N_Eff = chains::effective_sample_size
// (multi-chain Geyer initial-monotone-sequence ESS, not rank-normalised),
// MCSE = sd / sqrt(N_Eff), N_Eff/s = N_Eff / total sampling time, and
// R_hat = chains::split_potential_scale_reduction (classic split R-hat).
//
// One deliberate deviation: saved warmup draws are detected from the position
// of the "# Adaptation terminated" block, because the Stan 2.35 CSV reader
// cannot parse "save_warmup = true" and would summarise warmup draws too.
// Errors (unreadable or malformed input, bad options) are reported as one line
// on stderr with a non-zero exit code.

#include "stan_csv_files.hpp"

#include <stan/io/stan_csv_reader.hpp>
#include <stan/mcmc/chains.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

const char* const kUsage =
    "Usage: stansummary [OPTIONS] stan_csv_file(s)\n"
    "Report statistics for one or more Stan csv files from a HMC sampler run.\n"
    "Example:  stansummary model_chain_1.csv model_chain_2.csv\n"
    "Options:\n"
    "  -a, --autocorr [n]          Display the chain autocorrelation for the n-th\n"
    "                              input file, in addition to statistics.\n"
    "  -c, --csv_filename [file]   Write statistics to a csv file.\n"
    "  -h, --help                  Produce help message, then exit.\n"
    "  -p, --percentiles [values]  Percentiles to report as ordered set of\n"
    "                              comma-separated integers from (1,99), inclusive.\n"
    "                              Default is 5,50,95.\n"
    "  -s, --sig_figs [n]          Significant figures reported. Default is 2.\n"
    "                              Must be an integer from (1, 18), inclusive.\n";

using bayesbg::ChainFile;
using bayesbg::Failure;
using bayesbg::assemble_chains;
using bayesbg::read_chain;
using bayesbg::trim;

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

struct Options {
  int sig_figs = 2;
  bool sig_figs_given = false;
  std::vector<int> percentiles{5, 50, 95};
  std::string csv_filename;
  int autocorr = 0;  // 1-based chain index, 0 = off
  std::vector<std::string> files;
};

std::vector<std::string> column_labels(const std::vector<int>& percentiles) {
  std::vector<std::string> labels{"Mean", "MCSE", "StdDev"};
  for (int p : percentiles)
    labels.push_back(std::to_string(p) + "%");
  labels.insert(labels.end(), {"N_Eff", "N_Eff/s", "R_hat"});
  return labels;
}

// One row of the summary table for column `index` of the chains.
std::vector<double> summary_row(const stan::mcmc::chains<>& chains, int index,
                                const Eigen::VectorXd& probs,
                                double sampling_time) {
  const double sd = chains.sd(index);
  const double n_eff = chains.effective_sample_size(index);
  std::vector<double> row{chains.mean(index), sd / std::sqrt(n_eff), sd};
  const Eigen::VectorXd q = chains.quantiles(index, probs);
  row.insert(row.end(), q.data(), q.data() + q.size());
  row.push_back(n_eff);
  row.push_back(n_eff / sampling_time);
  row.push_back(chains.split_potential_scale_reduction(index));
  return row;
}

// Parses "theta[2,3]" into its integer indices; false if not all integers.
bool integer_indices(const std::string& name, std::vector<int>& idx) {
  idx.clear();
  size_t open = name.find('[');
  if (open == std::string::npos || name.back() != ']')
    return false;
  std::stringstream ss(name.substr(open + 1, name.size() - open - 2));
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    tok = trim(tok);
    if (tok.empty() || tok.find_first_not_of("0123456789") != std::string::npos)
      return false;
    idx.push_back(std::stoi(tok));
  }
  return !idx.empty();
}

std::string base_name(const std::string& name) {
  return name.substr(0, name.find('['));
}

// Output order of the model-parameter columns [first, last).  Stan writes
// container elements in column-major order; like CmdStan's stansummary we
// list them in row-major order.  Groups whose element names are not plain
// integer indices (tuples, complex parts) keep the CSV order.
std::vector<int> model_param_order(const stan::mcmc::chains<>& chains,
                                   int first, int last) {
  std::vector<int> order;
  int i = first;
  while (i < last) {
    const std::string base = base_name(chains.param_name(i));
    int j = i + 1;
    while (j < last && base_name(chains.param_name(j)) == base)
      ++j;
    std::vector<std::pair<std::vector<int>, int>> keyed;
    bool sortable = true;
    for (int k = i; k < j && sortable; ++k) {
      std::vector<int> idx;
      sortable = integer_indices(chains.param_name(k), idx);
      keyed.emplace_back(idx, k);
    }
    if (sortable && j - i > 1)
      std::stable_sort(keyed.begin(), keyed.end());  // lexicographic = row-major
    for (int k = 0; k < j - i; ++k)
      order.push_back(sortable ? keyed[k].second : i + k);
    i = j;
  }
  return order;
}

// ---------------------------------------------------------------------------
// Number formatting
// ---------------------------------------------------------------------------

// Decimal places needed to show `value` with `sig` significant digits in
// fixed notation.
int fixed_decimals(double value, int sig) {
  if (value == 0 || !std::isfinite(value))
    return sig;
  int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(value))));
  return std::max(0, sig - 1 - magnitude);
}

std::string format_special(double value) {
  if (std::isnan(value))
    return "nan";
  return value > 0 ? "inf" : "-inf";
}

std::string format_fixed(double value, int sig) {
  if (!std::isfinite(value))
    return format_special(value);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", fixed_decimals(value, sig), value);
  return buf;
}

std::string format_scientific(double value, int sig) {
  if (!std::isfinite(value))
    return format_special(value);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*e", sig - 1, value);
  return buf;
}

// CSV values: `sig` significant digits, shortest of fixed/scientific (%g).
std::string format_general(double value, int sig) {
  if (!std::isfinite(value))
    return format_special(value);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", sig, value);
  return buf;
}

// ---------------------------------------------------------------------------
// Console report
// ---------------------------------------------------------------------------

struct TableRow {
  std::string name;
  std::vector<double> values;
  bool sampler = false;  // sampler diagnostics are formatted separately
};

// Fixed-width table in the style of CmdStan: within a column, the sampler
// rows and the other rows (lp__, model parameters) are each shown in fixed
// notation when all their entries fit in 5 characters, otherwise in
// scientific notation; `sig` significant digits either way.  Empty rows (no
// name) print as blank separator lines.
void print_table(std::ostream& out, const std::vector<std::string>& labels,
                 const std::vector<TableRow>& rows, int sig) {
  const size_t n_cols = labels.size();
  size_t name_width = 0;
  for (const auto& r : rows)
    name_width = std::max(name_width, r.name.size());

  std::vector<std::vector<std::string>> cells(rows.size(),
                                              std::vector<std::string>(n_cols));
  std::vector<size_t> widths(n_cols);
  for (size_t c = 0; c < n_cols; ++c) {
    bool fixed[2] = {true, true};  // [model rows, sampler rows]
    for (const auto& r : rows)
      if (!r.values.empty() && format_fixed(r.values[c], sig).size() > 5)
        fixed[r.sampler] = false;
    widths[c] = labels[c].size();
    for (size_t r = 0; r < rows.size(); ++r) {
      if (rows[r].values.empty())
        continue;
      double v = rows[r].values[c];
      cells[r][c] = fixed[rows[r].sampler] ? format_fixed(v, sig)
                                           : format_scientific(v, sig);
      widths[c] = std::max(widths[c], cells[r][c].size());
    }
    widths[c] += 2;
  }

  auto pad_left = [](const std::string& s, size_t w) {
    return std::string(w > s.size() ? w - s.size() : 0, ' ') + s;
  };
  out << std::string(name_width + 1, ' ');
  for (size_t c = 0; c < n_cols; ++c)
    out << pad_left(labels[c], widths[c]);
  out << "\n\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].values.empty()) {
      out << "\n";
      continue;
    }
    out << rows[r].name << std::string(name_width + 1 - rows[r].name.size(), ' ');
    for (size_t c = 0; c < n_cols; ++c)
      out << pad_left(cells[r][c], widths[c]);
    out << "\n";
  }
}

// "a, b, c" with each number shown to 2 significant digits.
std::string join_times(const std::vector<double>& times) {
  std::string s;
  for (size_t k = 0; k < times.size(); ++k)
    s += (k ? ", " : "") + format_fixed(times[k], 2);
  return s;
}

template <typename F>
std::string join_ints(int n, F value) {
  std::string s;
  for (int k = 0; k < n; ++k)
    s += (k ? "," : "") + std::to_string(value(k));
  return s;
}

// Converts a duration to seconds / minutes / hours like CmdStan does.
std::string pretty_duration(double seconds) {
  if (seconds / 3600 > 1)
    return format_fixed(seconds / 3600, 2) + " hours";
  if (seconds / 60 > 1)
    return format_fixed(seconds / 60, 2) + " minutes";
  return format_fixed(seconds, 2) + " seconds";
}

// Run description, written to stdout and (with a "# " prefix) to the CSV.
void write_run_info(std::ostream& out, const std::string& prefix,
                    const stan::mcmc::chains<>& chains,
                    const std::vector<ChainFile>& files) {
  const int n = chains.num_chains();
  out << prefix << "Inference for Stan model: " << files[0].csv.metadata.model
      << "\n"
      << prefix << n << " chains: each with iter=("
      << join_ints(n, [&](int k) { return chains.num_kept_samples(k); })
      << "); warmup=(" << join_ints(n, [&](int k) { return chains.warmup(k); })
      << "); thin=("
      << join_ints(n, [&](int k) {
           return static_cast<int>(files[k].csv.metadata.thin);
         })
      << "); " << chains.num_samples() << " iterations saved.\n"
      << prefix << "\n";

  std::vector<double> warmup, sampling;
  for (const auto& f : files) {
    warmup.push_back(f.csv.timing.warmup);
    sampling.push_back(f.csv.timing.sampling);
  }
  auto total = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v)
      s += x;
    return s;
  };
  if (n == 1) {
    out << prefix << "Warmup took " << pretty_duration(warmup[0]) << "\n"
        << prefix << "Sampling took " << pretty_duration(sampling[0]) << "\n";
  } else {
    out << prefix << "Warmup took (" << join_times(warmup) << ") seconds, "
        << pretty_duration(total(warmup)) << " total\n"
        << prefix << "Sampling took (" << join_times(sampling) << ") seconds, "
        << pretty_duration(total(sampling)) << " total\n";
  }
}

void write_sampler_info(std::ostream& out, const std::string& prefix,
                        const stan::io::stan_csv_metadata& meta) {
  out << prefix << "Samples were drawn using " << meta.algorithm << " with "
      << meta.engine << ".\n"
      << prefix
      << "For each parameter, N_Eff is a crude measure of effective sample "
         "size,\n"
      << prefix
      << "and R_hat is the potential scale reduction factor on split chains "
         "(at\n"
      << prefix << "convergence, R_hat=1).\n";
}

// Autocorrelations of every column for one chain (--autocorr).
void print_autocorrelation(std::ostream& out, const stan::mcmc::chains<>& chains,
                           int chain_number) {
  const int c = chain_number - 1;
  size_t name_width = 0;
  for (int i = 0; i < chains.num_params(); ++i)
    name_width = std::max(name_width, chains.param_name(i).size());
  std::vector<Eigen::VectorXd> acs;
  for (int i = 0; i < chains.num_params(); ++i)
    acs.push_back(chains.autocorrelation(c, i));
  const int n_lags = acs.empty() ? 0 : static_cast<int>(acs[0].size());
  const int lag_width = std::max(4, static_cast<int>(std::to_string(n_lags).size()) + 1);

  out << "Displaying the autocorrelations for chain " << chain_number << ":\n\n";
  const int col_width = static_cast<int>(name_width) + 1;
  out << std::setw(lag_width) << "Lag";
  for (int i = 0; i < chains.num_params(); ++i)
    out << std::setw(col_width) << chains.param_name(i);
  out << "\n" << std::setprecision(6);
  for (int lag = 0; lag < n_lags; ++lag) {
    out << std::setw(lag_width) << lag;
    for (const auto& ac : acs)
      out << std::setw(col_width) << ac(lag);
    out << "\n";
  }
}

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

int parse_int(const std::string& text, const std::string& option) {
  std::string t = trim(text);
  size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (t.empty() || used != t.size())
    throw Failure("option " + option + ": '" + text + "' is not an integer");
  return value;
}

std::vector<int> parse_percentiles(const std::string& spec) {
  std::vector<int> result;
  std::string token;
  std::string s = spec + ",";
  for (char ch : s) {
    if (ch == ',' || ch == ' ' || ch == '\t') {
      if (!token.empty())
        result.push_back(parse_int(token, "--percentiles"));
      token.clear();
    } else {
      token += ch;
    }
  }
  bool ok = !result.empty();
  for (size_t i = 0; i < result.size() && ok; ++i)
    ok = result[i] >= 1 && result[i] <= 99 && (i == 0 || result[i] > result[i - 1]);
  if (!ok)
    throw Failure("option --percentiles '" + spec
                  + "': values must be in range (1,99), inclusive, and "
                    "strictly increasing");
  return result;
}

// Accepts --opt=value, --opt value, -o value and -ovalue.
Options parse_args(int argc, const char* argv[], bool& show_help) {
  Options opt;
  show_help = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      show_help = true;
      return opt;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      opt.files.push_back(arg);
      continue;
    }
    std::string key = arg, value;
    bool has_value = false;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        key = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_value = true;
      }
    } else if (arg.size() > 2) {  // -s3
      key = arg.substr(0, 2);
      value = arg.substr(2);
      has_value = true;
    }
    static const std::vector<std::pair<std::string, std::string>> names{
        {"--sig_figs", "-s"},
        {"--percentiles", "-p"},
        {"--csv_filename", "-c"},
        {"--autocorr", "-a"}};
    std::string name;
    for (const auto& n : names)
      if (key == n.first || key == n.second)
        name = n.first;
    if (name.empty())
      throw Failure("unrecognised option '" + arg + "' (see --help)");
    if (!has_value) {
      if (i + 1 >= argc)
        throw Failure("option " + name + " requires a value");
      value = argv[++i];
    }
    if (name == "--sig_figs") {
      opt.sig_figs = parse_int(value, name);
      opt.sig_figs_given = true;
      if (opt.sig_figs < 1 || opt.sig_figs > 18)
        throw Failure("option --sig_figs: " + trim(value)
                      + " not in range [1, 18]");
    } else if (name == "--percentiles") {
      opt.percentiles = parse_percentiles(value);
    } else if (name == "--csv_filename") {
      opt.csv_filename = trim(value);
      if (opt.csv_filename.empty())
        throw Failure("option --csv_filename requires a file name");
    } else {
      opt.autocorr = parse_int(value, name);
      if (opt.autocorr < 1)
        throw Failure("option --autocorr: chain number must be positive");
    }
  }
  if (opt.files.empty())
    throw Failure("no input csv files given (see --help)");
  if (opt.autocorr > static_cast<int>(opt.files.size()))
    throw Failure("option --autocorr: " + std::to_string(opt.autocorr)
                  + " not a valid chain id");
  return opt;
}

int run(int argc, const char* argv[]) {
  bool show_help = false;
  Options opt = parse_args(argc, argv, show_help);
  if (show_help) {
    std::cout << kUsage;
    return 0;
  }

  std::vector<ChainFile> files;
  for (const auto& path : opt.files)
    files.push_back(read_chain(path));
  const stan::mcmc::chains<> chains = assemble_chains(files);

  // Open (and truncate) the CSV output early so that a bad path fails fast.
  std::ofstream csv;
  if (!opt.csv_filename.empty()) {
    csv.open(opt.csv_filename, std::ios::trunc);
    if (!csv.good())
      throw Failure("cannot write csv_filename: " + opt.csv_filename);
  }

  Eigen::VectorXd probs(opt.percentiles.size());
  for (size_t j = 0; j < opt.percentiles.size(); ++j)
    probs(j) = opt.percentiles[j] / 100.0;
  double sampling_time = 0;
  for (const auto& f : files)
    sampling_time += f.csv.timing.sampling;

  // Row order: lp__, the other sampler columns (name__), model parameters.
  std::vector<int> lp, sampler, model;
  for (int i = 0; i < chains.num_params(); ++i) {
    const std::string& name = chains.param_name(i);
    if (name == "lp__")
      lp.push_back(i);
    else if (name.size() > 2 && name.compare(name.size() - 2, 2, "__") == 0)
      sampler.push_back(i);
    else
      model.push_back(i);
  }
  std::vector<int> model_order;
  for (size_t a = 0; a < model.size();) {  // reorder each contiguous block
    size_t b = a;
    while (b + 1 < model.size() && model[b + 1] == model[b] + 1)
      ++b;
    auto block = model_param_order(chains, model[a], model[b] + 1);
    model_order.insert(model_order.end(), block.begin(), block.end());
    a = b + 1;
  }

  const std::vector<std::string> labels = column_labels(opt.percentiles);
  std::vector<TableRow> rows;  // an empty row = blank line in the console
  auto add_rows = [&](const std::vector<int>& cols, bool is_sampler) {
    for (int i : cols)
      rows.push_back({chains.param_name(i),
                      summary_row(chains, i, probs, sampling_time), is_sampler});
  };
  add_rows(lp, false);
  add_rows(sampler, true);
  rows.push_back({});
  add_rows(model_order, false);

  // Console report.
  std::ostringstream console;
  write_run_info(console, "", chains, files);
  console << "\n";
  print_table(console, labels, rows, opt.sig_figs);
  console << "\n";
  write_sampler_info(console, "", files[0].csv.metadata);
  if (opt.autocorr > 0) {
    console << "\n";
    print_autocorrelation(console, chains, opt.autocorr);
  }
  std::cout << console.str() << std::flush;

  // CSV file.
  if (csv.is_open()) {
    const int digits = opt.sig_figs_given ? opt.sig_figs : 6;
    csv << "name";
    for (const auto& label : labels)
      csv << "," << label;
    csv << "\n";
    for (const auto& row : rows) {
      if (row.values.empty())
        continue;
      csv << "\"" << row.name << "\"";
      for (double v : row.values)
        csv << "," << format_general(v, digits);
      csv << "\n";
    }
    write_run_info(csv, "# ", chains, files);
    write_sampler_info(csv, "# ", files[0].csv.metadata);
    if (!csv.good())
      throw Failure("error writing csv_filename: " + opt.csv_filename);
  }
  return 0;
}

}  // namespace

int main(int argc, const char* argv[]) {
  if (argc < 2) {
    std::cout << kUsage;
    return 1;
  }
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "stansummary: " << e.what() << std::endl;
    return 1;
  }
}
