// attn_instability_report: the table behind step 6 and the docs' instability plots.
//
// For each head dimension d it draws queries and keys with independent standard normal
// components and measures, with the reference (attn::ref), what the 1/sqrt(d) of
// beta_ij = q_i . k_j / sqrt(d) buys:
//   Var[beta]       unscaled, Var[q.k] (about d); scaled, Var[q.k / sqrt(d)] (about 1)
//   H / ln n        mean entropy of a query's weights over n keys, relative to uniform
//   max weight      mean of max_j alpha_ij (1/n uniform, 1 one-hot)
//   ||J||_F         mean Frobenius norm of the softmax Jacobian diag(a) - a a^T: the size
//                   of the gradient that flows back through the weights
//   > 88.72, > 11.09  share of scores x with exp(x) beyond the largest float32 and float16
//                   numbers: where a naive softmax overflows
// Run with --help for the options.
#include <attn/attn.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

// exp(x) overflows to +inf beyond these: ln(FLT_MAX) = 88.7228 and ln(65504) = 11.0898.
constexpr double kFloat32ExpOverflow = 88.72;
constexpr double kFloat16ExpOverflow = 11.09;

constexpr std::string_view kUsage = R"(usage: attn_instability_report [options]

Measures, with the reference implementation, why attention divides its scores by sqrt(d):
for each head dimension d, queries and keys with independent N(0, 1) components give

  Var[beta]    the variance of the score: of the raw dot product q.k unscaled (about d),
               of q.k / sqrt(d) scaled (about 1), estimated from --samples pairs
  H / ln n     mean entropy of a query's attention weights over n keys, relative to the
               uniform weights' ln n (1: spread out, 0: one-hot)
  max weight   mean of each query's largest weight (1/n: uniform, 1: one-hot)
  ||J||_F      mean Frobenius norm of the softmax Jacobian J = diag(a) - a a^T (about 0:
               the gradient through the weights has vanished)
  > 88.72      share of scores x whose exp(x) overflows float32 (a naive softmax gives NaN)
  > 11.09      share of scores x whose exp(x) overflows float16

each for unscaled scores q.k and scaled scores q.k / sqrt(d). Same seed, same numbers.

options:
  --d LIST        comma-separated head dimensions (default 16,64,256,1024)
  --n N           keys (and queries) per trial (default 128)
  --trials T      independent Q, K draws per d (default 4)
  --samples S     (q, k) pairs for the variance estimate (default 10000)
  --seed SEED     random seed (default 1)
  --format FMT    table (default) or csv
  --help          this text
)";

struct options {
  std::vector<std::size_t> dims{16, 64, 256, 1024};
  std::size_t n = 128;
  std::size_t trials = 4;
  std::size_t samples = 10000;
  std::uint64_t seed = 1;
  bool csv = false;
};

/// Statistics of one way of scoring (scaled or unscaled) at one d.
struct stats {
  double entropy_ratio = 0;  // mean H(a_i) / ln n
  double max_weight = 0;     // mean max_j a_ij
  double jacobian_norm = 0;  // mean ||diag(a_i) - a_i a_i^T||_F
  double over_f32 = 0;       // share of scores with exp overflowing float32
  double over_f16 = 0;       // share of scores with exp overflowing float16
};

struct row {
  std::size_t d = 0;
  double var_unscaled = 0;
  double var_scaled = 0;
  stats unscaled, scaled;
};

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "attn_instability_report: %s\n(run with --help for the options)\n", message.c_str());
  std::exit(2);
}

template <class T>
T parse_number(std::string_view option, std::string_view text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    fail(std::string(option) + " '" + std::string(text) + "' is not a non-negative integer");
  }
  return value;
}

options parse(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) fail("unknown option or missing value: " + std::string(arg));
    const std::string_view value = argv[++i];
    if (arg == "--d") {
      opt.dims.clear();
      std::size_t start = 0;
      while (start <= value.size()) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        opt.dims.push_back(parse_number<std::size_t>("--d", value.substr(start, comma - start)));
        start = comma + 1;
      }
    } else if (arg == "--n") {
      opt.n = parse_number<std::size_t>(arg, value);
    } else if (arg == "--trials") {
      opt.trials = parse_number<std::size_t>(arg, value);
    } else if (arg == "--samples") {
      opt.samples = parse_number<std::size_t>(arg, value);
    } else if (arg == "--seed") {
      opt.seed = parse_number<std::uint64_t>(arg, value);
    } else if (arg == "--format") {
      if (value != "table" && value != "csv") fail("--format must be table or csv, not '" + std::string(value) + "'");
      opt.csv = value == "csv";
    } else {
      fail("unknown option " + std::string(arg));
    }
  }
  for (const std::size_t d : opt.dims) {
    if (d == 0) fail("--d: every dimension must be at least 1");
  }
  if (opt.n < 2) fail("--n must be at least 2 (ln n is the entropy scale)");
  // An n x n weight matrix and n x d queries must fit in memory: refuse what cannot.
  constexpr std::size_t kMaxN = 16384, kMaxD = 65536;
  if (opt.n > kMaxN) fail("--n " + std::to_string(opt.n) + " is too large; expected at most " + std::to_string(kMaxN));
  for (const std::size_t d : opt.dims) {
    if (d > kMaxD) fail("--d " + std::to_string(d) + " is too large; expected at most " + std::to_string(kMaxD));
  }
  if (opt.trials == 0) fail("--trials must be at least 1");
  if (opt.samples == 0) fail("--samples must be at least 1");
  return opt;
}

/// Adds the statistics of the weights of one trial to `s` (sums; averaged by the caller).
/// `beta` holds the scores before the softmax; `A` the weights from the reference.
void accumulate(const attn::matrix& beta, const attn::matrix& A, stats& s) {
  const std::size_t n = A.cols();
  attn::matrix J(n, n);
  for (std::size_t i = 0; i < A.rows(); ++i) {
    const auto a = A.row(i);
    s.entropy_ratio += attn::ref::entropy(a) / std::log(static_cast<double>(n));
    float largest = 0;
    for (const float x : a) largest = std::max(largest, x);
    s.max_weight += largest;
    attn::ref::softmax_jacobian(a, J.view());
    double frobenius = 0;
    for (const float x : J.elements()) frobenius += static_cast<double>(x) * x;
    s.jacobian_norm += std::sqrt(frobenius);
    for (const float x : beta.row(i)) {
      s.over_f32 += x > kFloat32ExpOverflow ? 1 : 0;
      s.over_f16 += x > kFloat16ExpOverflow ? 1 : 0;
    }
  }
}

row measure(std::size_t d, const options& opt) {
  row r;
  r.d = d;
  // Var[q.k] from the reference's Monte Carlo estimate; scaling by 1/sqrt(d) divides it by d.
  r.var_unscaled = attn::ref::dot_variance(d, opt.samples, opt.seed + d);
  r.var_scaled = r.var_unscaled / static_cast<double>(d);

  std::mt19937_64 gen(opt.seed * 1000003u + d);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const float root = std::sqrt(static_cast<float>(d));
  attn::matrix Q(opt.n, d), Q_unscaled(opt.n, d), K(opt.n, d);
  attn::matrix beta(opt.n, opt.n), A(opt.n, opt.n);
  for (std::size_t t = 0; t < opt.trials; ++t) {
    for (float& x : Q.elements()) x = normal(gen);
    for (float& x : K.elements()) x = normal(gen);
    // Scaled: the course's beta = q.k / sqrt(d).
    attn::ref::scores(Q, K, beta.view());
    attn::ref::attention_weights(Q, K, A.view(), false);
    accumulate(beta, A, r.scaled);
    // Unscaled: q.k itself, as if step 2 were skipped; the same pipeline on sqrt(d) q.
    for (std::size_t i = 0; i < Q.elements().size(); ++i) Q_unscaled.elements()[i] = Q.elements()[i] * root;
    attn::ref::scores(Q_unscaled, K, beta.view());
    attn::ref::attention_weights(Q_unscaled, K, A.view(), false);
    accumulate(beta, A, r.unscaled);
  }
  const double queries = static_cast<double>(opt.trials * opt.n);
  const double scores = queries * static_cast<double>(opt.n);
  for (stats* s : {&r.scaled, &r.unscaled}) {
    s->entropy_ratio /= queries;
    s->max_weight /= queries;
    s->jacobian_norm /= queries;
    s->over_f32 /= scores;
    s->over_f16 /= scores;
  }
  return r;
}

void print_csv(const std::vector<row>& rows) {
  std::printf("d,var_unscaled,var_scaled,entropy_ratio_unscaled,entropy_ratio_scaled,"
              "max_weight_unscaled,max_weight_scaled,jacobian_norm_unscaled,jacobian_norm_scaled,"
              "over_f32_unscaled,over_f32_scaled,over_f16_unscaled,over_f16_scaled\n");
  for (const row& r : rows) {
    std::printf("%zu,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", r.d, r.var_unscaled,
                r.var_scaled, r.unscaled.entropy_ratio, r.scaled.entropy_ratio, r.unscaled.max_weight,
                r.scaled.max_weight, r.unscaled.jacobian_norm, r.scaled.jacobian_norm, r.unscaled.over_f32,
                r.scaled.over_f32, r.unscaled.over_f16, r.scaled.over_f16);
  }
}

void print_table(const std::vector<row>& rows, const options& opt) {
  // Two blocks of at most 80 columns, so that each fits a terminal and a docs page.
  std::printf("Attention instability: q, k ~ N(0, I_d); n = %zu keys per query, %zu trials,\n"
              "%zu samples for Var[beta], seed %llu\n",
              opt.n, opt.trials, opt.samples, static_cast<unsigned long long>(opt.seed));
  std::printf("unscaled: beta = q.k        scaled: beta = q.k / sqrt(d)        (unscaled | scaled)\n\n");
  std::printf("%6s | %-19s | %-17s | %s\n", "", "Var[beta]", "H / ln n", "max weight");
  std::printf("%6s | %9s %9s | %8s %8s | %8s %8s\n", "d", "unscaled", "scaled", "unscaled", "scaled", "unscaled",
              "scaled");
  for (const row& r : rows) {
    std::printf("%6zu | %9.2f %9.3f | %8.3f %8.3f | %8.3f %8.3f\n", r.d, r.var_unscaled, r.var_scaled,
                r.unscaled.entropy_ratio, r.scaled.entropy_ratio, r.unscaled.max_weight, r.scaled.max_weight);
  }
  std::printf("\n%6s | %-17s | %-19s | %s\n", "", "||J||_F", "beta > 88.72", "beta > 11.09");
  std::printf("%6s | %-17s | %-19s | %s\n", "", "", "(exp > float32 max)", "(exp > float16 max)");
  std::printf("%6s | %8s %8s | %9s %9s | %9s %9s\n", "d", "unscaled", "scaled", "unscaled", "scaled", "unscaled",
              "scaled");
  for (const row& r : rows) {
    std::printf("%6zu | %8.4f %8.4f | %8.3f%% %8.3f%% | %8.3f%% %8.3f%%\n", r.d, r.unscaled.jacobian_norm,
                r.scaled.jacobian_norm, 100 * r.unscaled.over_f32, 100 * r.scaled.over_f32,
                100 * r.unscaled.over_f16, 100 * r.scaled.over_f16);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const options opt = parse(argc, argv);
    std::vector<row> rows;
    for (const std::size_t d : opt.dims) rows.push_back(measure(d, opt));
    if (opt.csv) {
      print_csv(rows);
    } else {
      print_table(rows, opt);
    }
    return 0;
  } catch (const std::exception& e) {  // e.g. std::bad_alloc: a message, never std::terminate
    std::fprintf(stderr, "attn_instability_report: %s\n", e.what());
    return 2;
  }
}
