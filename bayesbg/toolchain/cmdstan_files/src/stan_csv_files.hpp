// Reading Stan CSV files for bin/stansummary and bin/diagnose: one parsed file per
// chain, saved warmup draws counted, and the chains assembled for stan::mcmc::chains.
// Written over the Stan library's stan_csv_reader; bayesbg's own code.
#ifndef BAYESBG_STAN_CSV_FILES_HPP
#define BAYESBG_STAN_CSV_FILES_HPP

#include <stan/io/stan_csv_reader.hpp>
#include <stan/mcmc/chains.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bayesbg {

// Any user-facing failure: main() prints "<program>: <what>" on stderr.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One parsed Stan CSV file (= one chain).
struct ChainFile {
  std::string path;
  stan::io::stan_csv csv;
  int warmup_rows = 0;  // saved warmup draws at the top of csv.samples
};

inline std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos)
    return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Number of saved warmup draws in the file text.  CmdStan writes warmup draws
// between the header line and the "# Adaptation terminated" comment block, so
// counting those rows is exact (thinning included).  Without an adaptation
// block (adaptation off, fixed_param) fall back to the config values.
inline int count_warmup_rows(const std::string& text,
                      const stan::io::stan_csv_metadata& meta, int n_rows) {
  std::istringstream in(text);
  std::string line;
  bool save_warmup = false;
  bool seen_header = false;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    if (!seen_header) {
      if (line[0] != '#') {
        seen_header = true;
      } else if (line.find("save_warmup") != std::string::npos) {
        std::string value = trim(line.substr(line.find('=') + 1));
        save_warmup = value.rfind("true", 0) == 0 || value.rfind("1", 0) == 0;
      }
      continue;
    }
    if (line[0] != '#') {
      ++rows;
      continue;
    }
    if (line.find("Adaptation terminated") != std::string::npos)
      return rows;
    break;  // first comment after the draws is not an adaptation block
  }
  if (!save_warmup || meta.thin < 1)
    return 0;
  int expected = static_cast<int>((meta.num_warmup + meta.thin - 1) / meta.thin);
  return std::min(expected, n_rows);
}

inline ChainFile read_chain(const std::string& path) {
  std::ifstream file(path);
  if (!file.good())
    throw Failure("cannot read input csv file: " + path);
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string text = buffer.str();

  ChainFile chain;
  chain.path = path;
  std::istringstream in(text);
  std::ostringstream messages;  // reader diagnostics; only errors matter
  try {
    chain.csv = stan::io::stan_csv_reader::parse(in, &messages);
  } catch (const std::exception&) {
    throw Failure("cannot parse Stan CSV file (no header line): " + path);
  }
  // "Error: expected N columns, but found M ..." means a malformed draw row.
  std::istringstream msg_lines(messages.str());
  std::string msg;
  while (std::getline(msg_lines, msg))
    if (msg.rfind("Error", 0) == 0)
      throw Failure("malformed Stan CSV file " + path + ": " + msg);

  const int n_rows = static_cast<int>(chain.csv.samples.rows());
  chain.warmup_rows = count_warmup_rows(text, chain.csv.metadata, n_rows);
  if (n_rows - chain.warmup_rows < 1)
    throw Failure("no sampling draws found in Stan CSV file: " + path);
  return chain;
}

// Reads all files and assembles them into one chains object (one chain per
// file, saved warmup draws marked so that they are excluded).
inline stan::mcmc::chains<> assemble_chains(const std::vector<ChainFile>& files) {
  stan::mcmc::chains<> chains(files[0].csv.header);
  for (size_t k = 0; k < files.size(); ++k) {
    if (files[k].csv.header != files[0].csv.header)
      throw Failure("column names of " + files[k].path
                    + " do not match those of " + files[0].path);
    chains.add(files[k].csv.samples);
    chains.set_warmup(static_cast<int>(k), files[k].warmup_rows);
  }
  return chains;
}

}  // namespace bayesbg

#endif
