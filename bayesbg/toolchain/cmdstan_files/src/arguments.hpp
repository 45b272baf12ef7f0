// Command-line arguments of the bayesbg model driver.
//
// The syntax is CmdStan's: a tree of named arguments where a bare word opens a
// group (`adapt`, `output`), `key=value` sets a value, and a list argument such as
// `method=sample` or `algorithm=hmc` both sets a value and opens the group of the
// chosen alternative.  A token is looked up in the group that is open and, failing
// that, in each enclosing group in turn, so `adapt delta=0.9 num_chains=4` puts
// `num_chains` back in `sample`.  This file is bayesbg's own code; the argument
// names and defaults follow CmdStan 2.35 because cmdstanpy 1.3 writes them and
// reads them back from the CSV comment block.
#ifndef BAYESBG_DRIVER_ARGUMENTS_HPP
#define BAYESBG_DRIVER_ARGUMENTS_HPP

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bayesbg {

/** Error in the command line: printed as one line, exit status 1 (as CmdStan). */
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class kind { group, value, list };
enum class value_type { none, boolean, integer, positive_integer, unsigned_integer, real, text };

/** One node of the argument tree. */
struct argument {
  std::string name;
  kind node_kind = kind::group;
  value_type type = value_type::none;
  std::string value;          // current value (value and list nodes)
  std::string default_value;  // CmdStan 2.35's default
  // "(Default)" in the echo and the CSV header.  As in CmdStan, a value equal to the
  // default counts as default even when given; a generated seed stays "(Default)".
  bool is_default = true;
  bool given = false;         // set on the command line
  std::string help;
  std::vector<argument> children;  // group: members; list: the alternatives

  argument* child(const std::string& key) {
    for (auto& c : children)
      if (c.name == key) return &c;
    return nullptr;
  }
  const argument* child(const std::string& key) const {
    for (const auto& c : children)
      if (c.name == key) return &c;
    return nullptr;
  }
  /** The alternative chosen for a list node. */
  const argument& selected() const { return *child(value); }
  argument& selected() { return *child(value); }
};

inline argument group(std::string name, std::vector<argument> members, std::string help = "") {
  argument a;
  a.name = std::move(name);
  a.node_kind = kind::group;
  a.children = std::move(members);
  a.help = std::move(help);
  return a;
}

inline argument val(std::string name, value_type type, std::string def, std::string help) {
  argument a;
  a.name = std::move(name);
  a.node_kind = kind::value;
  a.type = type;
  a.value = def;
  a.default_value = std::move(def);
  a.help = std::move(help);
  return a;
}

inline argument choice(std::string name, std::string def, std::vector<argument> options,
                       std::string help) {
  argument a;
  a.name = std::move(name);
  a.node_kind = kind::list;
  a.value = def;
  a.default_value = std::move(def);
  a.children = std::move(options);
  a.help = std::move(help);
  return a;
}

/** The optimizer settings shared by bfgs, lbfgs and pathfinder. */
inline std::vector<argument> quasi_newton_settings(bool with_history) {
  std::vector<argument> s{
      val("init_alpha", value_type::real, "0.001", "Line search step size for first iteration"),
      val("tol_obj", value_type::real, "1e-12", "Convergence tolerance on absolute changes in objective function value"),
      val("tol_rel_obj", value_type::real, "10000", "Convergence tolerance on relative changes in objective function value"),
      val("tol_grad", value_type::real, "1e-08", "Convergence tolerance on the norm of the gradient"),
      val("tol_rel_grad", value_type::real, "1e+07", "Convergence tolerance on the relative norm of the gradient"),
      val("tol_param", value_type::real, "1e-08", "Convergence tolerance on changes in parameter value")};
  if (with_history)
    s.push_back(val("history_size", value_type::positive_integer, "5", "Amount of history to keep for L-BFGS"));
  return s;
}

/** The full tree with CmdStan 2.35's names and defaults. */
inline argument make_argument_tree() {
  using vt = value_type;
  argument sample = group(
      "sample",
      {val("num_samples", vt::unsigned_integer, "1000", "Number of sampling iterations"),
       val("num_warmup", vt::unsigned_integer, "1000", "Number of warmup iterations"),
       val("save_warmup", vt::boolean, "false", "Stream warmup samples to output?"),
       val("thin", vt::positive_integer, "1", "Period between saved samples"),
       group("adapt",
             {val("engaged", vt::boolean, "true", "Adaptation engaged?"),
              val("gamma", vt::real, "0.05", "Adaptation regularization scale"),
              val("delta", vt::real, "0.8", "Adaptation target acceptance statistic"),
              val("kappa", vt::real, "0.75", "Adaptation relaxation exponent"),
              val("t0", vt::real, "10", "Adaptation iteration offset"),
              val("init_buffer", vt::unsigned_integer, "75", "Width of initial fast adaptation interval"),
              val("term_buffer", vt::unsigned_integer, "50", "Width of final fast adaptation interval"),
              val("window", vt::unsigned_integer, "25", "Initial width of slow adaptation interval"),
              val("save_metric", vt::boolean, "false", "Save metric as JSON? (not supported by this driver)")},
             "Warmup Adaptation"),
       choice("algorithm", "hmc",
              {group("hmc",
                     {choice("engine", "nuts",
                             {group("nuts", {val("max_depth", vt::positive_integer, "10", "Maximum tree depth")},
                                    "The No-U-Turn Sampler")},
                             "Engine for Hamiltonian Monte Carlo"),
                      choice("metric", "diag_e",
                             {group("unit_e", {}, "Euclidean manifold with unit metric"),
                              group("diag_e", {}, "Euclidean manifold with diag metric"),
                              group("dense_e", {}, "Euclidean manifold with dense metric")},
                             "Geometry of base manifold"),
                      val("metric_file", vt::text, "", "Input file with precomputed Euclidean metric"),
                      val("stepsize", vt::real, "1", "Step size for discrete evolution"),
                      val("stepsize_jitter", vt::real, "0", "Uniformly random jitter of the stepsize, in percent")},
                     "Hamiltonian Monte Carlo"),
               group("fixed_param", {}, "Fixed Parameter Sampler")},
              "Sampling algorithm"),
       val("num_chains", vt::positive_integer, "1", "Number of chains")},
      "Bayesian inference with Markov Chain Monte Carlo");

  argument optimize = group(
      "optimize",
      {choice("algorithm", "lbfgs",
              {group("bfgs", quasi_newton_settings(false), "BFGS with linesearch"),
               group("lbfgs", quasi_newton_settings(true), "LBFGS with linesearch"),
               group("newton", {}, "Newton's method")},
              "Optimization algorithm"),
       val("jacobian", vt::boolean, "false", "When true, include change-of-variables adjustment (MAP in the unconstrained space)"),
       val("iter", vt::positive_integer, "2000", "Total number of iterations"),
       val("save_iterations", vt::boolean, "false", "Stream optimization progress to output?")},
      "Point estimation");

  argument variational = group(
      "variational",
      {choice("algorithm", "meanfield",
              {group("meanfield", {}, "mean-field approximation"),
               group("fullrank", {}, "full-rank covariance")},
              "Variational inference algorithm"),
       val("iter", vt::positive_integer, "10000", "Maximum number of ADVI iterations"),
       val("grad_samples", vt::positive_integer, "1", "Number of Monte Carlo draws for computing the gradient"),
       val("elbo_samples", vt::positive_integer, "100", "Number of Monte Carlo draws for estimate of ELBO"),
       val("eta", vt::real, "1", "Stepsize scaling parameter"),
       group("adapt",
             {val("engaged", vt::boolean, "true", "Eta Adaptation engaged?"),
              val("iter", vt::positive_integer, "50", "Number of iterations for eta adaptation")},
             "Eta Adaptation for Variational Inference"),
       val("tol_rel_obj", vt::real, "0.01", "Relative tolerance parameter for convergence"),
       val("eval_elbo", vt::positive_integer, "100", "Number of iterations between ELBO evaluations"),
       val("output_samples", vt::positive_integer, "1000", "Number of approximate posterior output draws to save")},
      "Variational inference");

  argument diagnose = group(
      "diagnose",
      {choice("test", "gradient",
              {group("gradient",
                     {val("epsilon", vt::real, "1e-06", "Finite difference step size"),
                      val("error", vt::real, "1e-06", "Error threshold")},
                     "Check model gradient against finite differences")},
              "Diagnostic test")},
      "Model diagnostics");

  argument generate = group(
      "generate_quantities",
      {val("fitted_params", vt::text, "", "Input file of parameter draws (Stan CSV)")},
      "Generate quantities of interest");

  std::vector<argument> pathfinder_settings = quasi_newton_settings(true);
  for (auto a : {val("num_psis_draws", vt::positive_integer, "1000", "Number of draws from PSIS sample"),
                 val("num_paths", vt::positive_integer, "4", "Number of single pathfinders"),
                 val("save_single_paths", vt::boolean, "false", "Output single-path pathfinder draws as CSV"),
                 val("psis_resample", vt::boolean, "true", "If true, perform psis resampling on samples"),
                 val("calculate_lp", vt::boolean, "true", "If true, individual paths calculate the log density"),
                 val("max_lbfgs_iters", vt::positive_integer, "1000", "Maximum number of LBFGS iterations"),
                 val("num_draws", vt::positive_integer, "1000", "Number of approximate posterior draws"),
                 val("num_elbo_draws", vt::positive_integer, "25", "Number of Monte Carlo draws to evaluate ELBO")})
    pathfinder_settings.push_back(a);
  argument pathfinder = group("pathfinder", pathfinder_settings, "Pathfinder algorithm");

  argument log_prob = group(
      "log_prob",
      {val("unconstrained_params", vt::text, "", "Input file (JSON or CSV) of parameter values on unconstrained scale"),
       val("constrained_params", vt::text, "", "Input file (JSON or CSV) of parameter values on constrained scale"),
       val("jacobian", vt::boolean, "true", "Include Jacobian adjustment")},
      "Return the log density up to a constant and its gradients, given supplied parameters");

  argument laplace = group(
      "laplace",
      {val("mode", vt::text, "", "A specification of a mode on the constrained scale (Stan CSV of optimize, or JSON)"),
       val("jacobian", vt::boolean, "true", "When true, include change-of-variables adjustment"),
       val("draws", vt::positive_integer, "1000", "Number of draws from the laplace approximation"),
       val("calculate_lp", vt::boolean, "true", "When true, compute the log density of the model at each draw")},
      "Sample from a Laplace approximation");

  argument root = group(
      "",
      {choice("method", "sample",
              {sample, optimize, variational, diagnose, generate, pathfinder, log_prob, laplace},
              "Analysis method"),
       val("id", vt::unsigned_integer, "1", "Unique process identifier (chain id of the first chain)"),
       group("data", {val("file", vt::text, "", "Input data file (JSON, or R dump when not ending in .json)")}, "Input data"),
       val("init", vt::text, "2", "Initialization: a radius R for uniform(-R, R) on the unconstrained scale, or a JSON or R dump file"),
       group("random", {val("seed", vt::unsigned_integer, "", "Random number generator seed")},
             "Random number configuration"),
       group("output",
             {val("file", vt::text, "output.csv", "Output file"),
              val("diagnostic_file", vt::text, "", "Auxiliary output file for diagnostic information"),
              val("refresh", vt::unsigned_integer, "100", "Number of iterations between screen updates"),
              val("sig_figs", vt::integer, "-1", "The number of significant figures used for the output CSV files"),
              val("profile_file", vt::text, "profile.csv", "File to store profiling information"),
              val("save_cmdstan_config", vt::boolean, "false", "Save the configuration as JSON (not supported by this driver)")},
             "File output options"),
       val("num_threads", vt::integer, "1", "Number of threads available to the program")});
  return root;
}

inline bool parse_bool(const std::string& s, bool& out) {
  if (s == "1" || s == "true") { out = true; return true; }
  if (s == "0" || s == "false") { out = false; return true; }
  return false;
}

/** Check a value against its declared type and return its canonical spelling. */
inline std::string canonical_value(const argument& a, const std::string& raw) {
  auto fail = [&](const std::string& what) {
    throw usage_error("argument " + a.name + "=" + raw + ": expected " + what);
  };
  switch (a.type) {
    case value_type::boolean: {
      bool b;
      if (!parse_bool(raw, b)) fail("a boolean (0, 1, true or false)");
      return b ? "true" : "false";
    }
    case value_type::integer:
    case value_type::positive_integer:
    case value_type::unsigned_integer: {
      char* end = nullptr;
      long long v = std::strtoll(raw.c_str(), &end, 10);
      if (raw.empty() || *end != '\0') fail("an integer");
      if (a.type == value_type::positive_integer && v <= 0) fail("a positive integer");
      if (a.type == value_type::unsigned_integer && v < 0) fail("a non-negative integer");
      if (a.type == value_type::unsigned_integer && v > 4294967295LL) fail("an integer below 2^32");
      return std::to_string(v);
    }
    case value_type::real: {
      char* end = nullptr;
      double v = std::strtod(raw.c_str(), &end);
      if (raw.empty() || *end != '\0') fail("a real number");
      std::ostringstream os;
      os << v;
      return os.str();
    }
    default:
      return raw;
  }
}

/**
 * Parse CmdStan-style arguments into the tree.  Returns the special command
 * ("info", "help", "help-all") if one was given, else "".
 */
inline std::string parse_arguments(argument& root, const std::vector<std::string>& tokens) {
  std::vector<argument*> open{&root};
  for (const auto& token : tokens) {
    if (token == "info" || token == "help" || token == "help-all") return token;
    auto eq = token.find('=');
    std::string key = token.substr(0, eq);
    bool has_value = eq != std::string::npos;
    std::string raw = has_value ? token.substr(eq + 1) : "";
    // A method name on its own is short for method=<name>.
    argument* method = root.child("method");
    if (!has_value && method->child(key) && open.size() == 1) {
      has_value = true;
      raw = key;
      key = "method";
    }
    bool found = false;
    for (size_t level = open.size(); level-- > 0 && !found;) {
      argument* here = open[level];
      argument* target = here->child(key);
      if (!target) continue;
      found = true;
      open.resize(level + 1);
      switch (target->node_kind) {
        case kind::group:
          if (has_value) throw usage_error("argument " + key + " takes no value, found '" + token + "'");
          open.push_back(target);
          break;
        case kind::value:
          if (!has_value) throw usage_error("argument " + key + " needs a value: " + key + "=<value>");
          target->value = canonical_value(*target, raw);
          target->is_default = target->value == target->default_value;
          target->given = true;
          break;
        case kind::list: {
          if (!has_value) throw usage_error("argument " + key + " needs a value: " + key + "=<value>");
          if (!target->child(raw)) {
            std::string options;
            for (const auto& c : target->children) options += (options.empty() ? "" : ", ") + c.name;
            throw usage_error("argument " + key + "=" + raw + ": expected one of " + options);
          }
          target->value = raw;
          target->is_default = target->value == target->default_value;
          target->given = true;
          open.push_back(target);
          open.push_back(&target->selected());
          break;
        }
      }
    }
    if (!found) {
      std::string context;
      for (size_t i = 1; i < open.size(); ++i)
        if (open[i]->node_kind == kind::group) context += (context.empty() ? "" : " ") + open[i]->name;
      throw usage_error("unknown or misplaced argument '" + token + "'" +
                        (context.empty() ? "" : " (after: " + context + ")") +
                        "; run with help-all to list the arguments");
    }
  }
  return "";
}

/** Config lines as CmdStan writes them in the CSV header, without the "# " prefix. */
inline void config_lines(const argument& node, int depth, std::vector<std::string>& out) {
  for (const auto& c : node.children) {
    std::string indent(2 * depth, ' ');
    std::string tag = c.is_default ? " (Default)" : "";
    switch (c.node_kind) {
      case kind::group:
        out.push_back(indent + c.name);
        config_lines(c, depth + 1, out);
        break;
      case kind::value:
        out.push_back(indent + c.name + " = " + c.value + tag);
        break;
      case kind::list:
        out.push_back(indent + c.name + " = " + c.value + tag);
        // CmdStan names the chosen alternative on its own line, except for the metric.
        if (c.name != "metric") out.push_back(indent + "  " + c.value);
        config_lines(c.selected(), depth + 2, out);
        break;
    }
  }
}

/** The help-all text: every argument with its default. */
inline void help_lines(const argument& node, int depth, std::ostream& os) {
  for (const auto& c : node.children) {
    std::string indent(2 * depth, ' ');
    if (c.node_kind == kind::group) {
      os << indent << c.name << "  " << c.help << "\n";
      help_lines(c, depth + 1, os);
    } else if (c.node_kind == kind::value) {
      os << indent << c.name << "=<value>  " << c.help << " (default: " << c.value << ")\n";
    } else {
      os << indent << c.name << "=<";
      for (size_t i = 0; i < c.children.size(); ++i) os << (i ? "|" : "") << c.children[i].name;
      os << ">  " << c.help << " (default: " << c.value << ")\n";
      for (const auto& option : c.children) {
        os << indent << "  " << option.name << "  " << option.help << "\n";
        help_lines(option, depth + 2, os);
      }
    }
  }
}

/** Read access by path, e.g. get(root, {"method", "sample", "num_samples"}). */
inline const argument& lookup(const argument& root, const std::vector<std::string>& path) {
  const argument* node = &root;
  for (const auto& p : path) {
    const argument* next = node->child(p);
    if (!next) throw std::logic_error("driver bug: no argument " + p);
    node = next;
  }
  return *node;
}

}  // namespace bayesbg
#endif
