// attn_explain: prints the whole computation of attention weights for a small example,
// step by step, with the reference (attn::ref): Q, K, raw scores q_i . k_j, scaled scores,
// masked scores, weights alpha_ij and their row sums. Run with --help.
#include <attn/attn.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kUsage = R"(usage: attn_explain [options]

Prints how queries Q and keys K become attention weights, step by step:
  1. raw scores    q_i . k_j
  2. scaled        beta_ij = q_i . k_j / sqrt(d)
  3. masked        beta_ij + Mask(i, j)   (-inf where j > i; skipped with --no-causal)
  4. weights       alpha_ij = exp(beta_ij) / sum_l exp(beta_il)
  5. row sums      sum_j alpha_ij = 1

With no options it uses a 4-token example built from the course's cards: query row 1 is
the card's q = [2.0, 0.5, 1.0, -1.5] and key row 0 is the card's k = [1.0, 1.0, -0.5, 2.0],
so the scaled score beta_10 = -1 / sqrt(4) = -0.5 appears under the causal mask.

options:
  --q "ROWS"        queries on the command line: numbers separated by commas or spaces,
                    rows by semicolons, e.g. --q "1,0; 0,1"
  --k "ROWS"        keys, the same way (same number of columns as Q)
  --q-csv FILE      queries from a CSV file, one row per line (# starts a comment)
  --k-csv FILE      keys from a CSV file
  --no-causal       do not apply the causal mask
  --precision N     digits after the decimal point (default 4, at most 9)
  -h, --help        this text

Exit status: 0 on success, 2 on bad input (the message says what and where).
)";

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One row of numbers separated by commas and/or blanks; `where` names it in messages.
std::vector<float> parse_row(std::string_view text, const std::string& where) {
  std::vector<float> row;
  std::string cell;
  auto flush = [&] {
    if (cell.empty()) return;
    errno = 0;
    char* end = nullptr;
    const float v = std::strtof(cell.c_str(), &end);
    if (end != cell.c_str() + cell.size() || errno == ERANGE) {
      throw usage_error(where + ": '" + cell + "' is not a float; expected numbers such as 1.5, -2, 3e-1, inf");
    }
    row.push_back(v);
    cell.clear();
  };
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\r') {
      flush();
    } else {
      cell += c;
    }
  }
  flush();
  return row;
}

attn::matrix to_matrix(const std::vector<std::vector<float>>& rows, const std::string& name) {
  if (rows.empty()) throw usage_error(name + " has no rows; expected at least one row of numbers");
  attn::matrix m(rows.size(), rows[0].size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != rows[0].size()) {
      throw usage_error(name + ": row " + std::to_string(i) + " has " + std::to_string(rows[i].size()) +
                        " numbers but row 0 has " + std::to_string(rows[0].size()) +
                        "; expected every row to have the same length d");
    }
    for (std::size_t j = 0; j < rows[i].size(); ++j) m(i, j) = rows[i][j];
  }
  return m;
}

attn::matrix parse_inline(std::string_view text, const std::string& name) {
  std::vector<std::vector<float>> rows;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(';', start), text.size());
    const auto part = text.substr(start, end - start);
    auto row = parse_row(part, name + " row " + std::to_string(rows.size()));
    if (!row.empty()) rows.push_back(std::move(row));
    start = end + 1;
  }
  return to_matrix(rows, name);
}

attn::matrix parse_csv(const std::string& path, const std::string& name) {
  std::ifstream in(path);
  if (!in) throw usage_error(name + ": cannot open '" + path + "'; expected a readable CSV file");
  std::vector<std::vector<float>> rows;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    auto row = parse_row(line, path + ":" + std::to_string(number));
    if (!row.empty()) rows.push_back(std::move(row));
  }
  return to_matrix(rows, name + " (" + path + ")");
}

// The cards' example: the card's query is Q row 1, the card's key is K row 0.
attn::matrix card_queries() {
  return attn::matrix{{1.0f, 0.0f, 1.0f, 0.0f},
                      {2.0f, 0.5f, 1.0f, -1.5f},
                      {0.5f, -1.0f, 0.5f, 1.0f},
                      {1.0f, 1.0f, 1.0f, 1.0f}};
}
attn::matrix card_keys() {
  return attn::matrix{{1.0f, 1.0f, -0.5f, 2.0f},
                      {0.0f, 1.0f, 0.0f, 0.5f},
                      {1.0f, 0.0f, -1.0f, 0.5f},
                      {0.5f, 0.5f, 0.5f, 0.5f}};
}

std::string cell(float v, int precision) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, static_cast<double>(v));
  return buf;
}

void print(const std::string& title, attn::const_matrix_view m, const std::string& row_name,
           const std::string& col_name, int precision) {
  std::cout << title << "\n";
  const int width = precision + 6;
  std::cout << std::string(6, ' ');
  for (std::size_t j = 0; j < m.cols; ++j) {
    std::string h = col_name + std::to_string(j);
    std::cout << std::string(width - static_cast<int>(h.size()), ' ') << h;
  }
  std::cout << "\n";
  for (std::size_t i = 0; i < m.rows; ++i) {
    std::string h = row_name + std::to_string(i);
    std::cout << "  " << h << std::string(4 - std::min<std::size_t>(4, h.size()), ' ');
    for (std::size_t j = 0; j < m.cols; ++j) {
      const std::string c = cell(m(i, j), precision);
      std::cout << std::string(std::max(1, width - static_cast<int>(c.size())), ' ') << c;
    }
    std::cout << "\n";
  }
  std::cout << "\n";
}

int run(int argc, char** argv) {
  attn::matrix Q = card_queries(), K = card_keys();
  bool causal = true, cards = true;
  int precision = 4;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    auto value = [&]() -> std::string {
      if (a + 1 >= argc) throw usage_error(arg + " needs a value; see --help");
      return argv[++a];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--q") {
      Q = parse_inline(value(), "--q");
      cards = false;
    } else if (arg == "--k") {
      K = parse_inline(value(), "--k");
      cards = false;
    } else if (arg == "--q-csv") {
      Q = parse_csv(value(), "--q-csv");
      cards = false;
    } else if (arg == "--k-csv") {
      K = parse_csv(value(), "--k-csv");
      cards = false;
    } else if (arg == "--no-causal") {
      causal = false;
    } else if (arg == "--precision") {
      const std::string v = value();
      char* end = nullptr;
      const long p = std::strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || p < 0 || p > 9) {
        throw usage_error("--precision: '" + v + "' is not a whole number from 0 to 9");
      }
      precision = static_cast<int>(p);
    } else {
      throw usage_error("unknown option '" + arg + "'; see --help");
    }
  }
  if (Q.cols() != K.cols()) {
    throw usage_error("Q has d = " + std::to_string(Q.cols()) + " columns but K has " +
                      std::to_string(K.cols()) + "; expected the same dimension d");
  }
  const std::size_t d = Q.cols(), nq = Q.rows(), nk = K.rows();
  const float root = std::sqrt(static_cast<float>(d));

  if (cards) {
    std::cout << "The cards' example: query q_1 = [2.0, 0.5, 1.0, -1.5], key k_0 = [1.0, 1.0, -0.5, 2.0].\n\n";
  }
  print("Q, the queries (" + std::to_string(nq) + " x " + std::to_string(d) + "), one per row:", Q, "q", "c", precision);
  print("K, the keys (" + std::to_string(nk) + " x " + std::to_string(d) + "), one per row:", K, "k", "c", precision);

  attn::matrix raw(nq, nk);
  for (std::size_t i = 0; i < nq; ++i)
    for (std::size_t j = 0; j < nk; ++j) raw(i, j) = attn::ref::dot(Q.row(i), K.row(j));
  print("1. raw scores q_i . k_j:", raw, "i", "j", precision);

  attn::matrix beta(nq, nk);
  attn::ref::scores(Q, K, beta);
  print("2. scaled scores beta_ij = q_i . k_j / sqrt(d), sqrt(" + std::to_string(d) + ") = " +
            cell(root, precision) + ":", beta, "i", "j", precision);
  if (cards) {
    std::cout << "   beta_10 = (2*1 + 0.5*1 + 1*(-0.5) + (-1.5)*2) / sqrt(4) = -1 / 2 = "
              << cell(beta(1, 0), precision) << "\n\n";
  }

  if (causal) {
    attn::ref::apply_causal_mask(beta);
    print("3. masked scores beta_ij + Mask(i, j), Mask = -inf where j > i (query i sees keys 0..i):",
          beta, "i", "j", precision);
  } else {
    std::cout << "3. no causal mask (--no-causal): every query sees every key.\n\n";
  }

  attn::matrix alpha(nq, nk);
  attn::ref::attention_weights(Q, K, alpha, causal);
  print("4. weights alpha_ij = exp(beta_ij) / sum_l exp(beta_il) (stable: the row max subtracted first):",
        alpha, "i", "j", precision);

  std::cout << "5. row sums sum_j alpha_ij (1 for every query that sees at least one key):\n";
  for (std::size_t i = 0; i < nq; ++i) {
    double sum = 0.0;
    for (std::size_t j = 0; j < nk; ++j) sum += alpha(i, j);
    std::cout << "  i" << i << "  " << cell(static_cast<float>(sum), precision) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const usage_error& e) {
    std::cerr << "attn_explain: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "attn_explain: " << e.what() << "\n";
    return 2;
  }
}
