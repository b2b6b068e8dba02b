// attn_lab: trains the lab's one-head attention model on associative recall and writes a CSV
// of loss, attention entropy, largest |score| and gradient norm per step. Run with --help.
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "lab.hpp"

namespace {

constexpr const char* kUsage = R"(usage: attn_lab [options]

Trains a tiny attention model (token embeddings, one attention head with W_Q, W_K, W_V,
a linear read-out, cross-entropy, Adam) on associative recall: a sequence of --pairs tokens,
each a (key, value) pair (embedding E_key[k] + E_val[v]), then --queries query tokens
(E_key[k] + E_val[none]); at a query the target is the value stored with its key. Causal
mask; the loss is the mean cross-entropy over the query tokens. The attention functions
(weights, output, backward, layer_norm and its backward, entropy) are the course's.

options:
  --scaling MODE     scaled (scores q.k / sqrt(d), the default) or unscaled (q.k)
  --qk-layernorm     layer_norm on the rows of Q and of K (learned gains) before the scores
  --lr X             Adam's learning rate (default 0.01)
  --d N              model width d (default 16)
  --pairs N          (key, value) tokens per sequence (default 24)
  --queries N        query tokens per sequence, at most --pairs (default 8); n = pairs + queries
  --keys N           key vocabulary, at least --pairs (default 32)
  --values N         value vocabulary (default 8; a model that guesses scores ln(values))
  --batch N          sequences per step (default 8)
  --steps N          training steps (default 600)
  --init-scale X     standard deviation of the embeddings (default 0.5)
  --seed N           seed of the initialisation and the data (default 1)
  --csv FILE         write one line per step: step,loss,entropy,max_score,grad_norm
  --impl NAME        reference (attn::ref, the default), solutions or exercises: whose
                     functions train the model (each is its own program; ./attn lab picks it)
  --quiet            no progress lines, only the summary
  -h, --help         this text

Per step: loss, mean attention entropy over the query tokens' rows (nats), the largest
|score| beta_ij = q_i . k_j / sqrt(d) in those rows over the keys they see (the score the
softmax sees: with sqrt(d) Q in the unscaled variant), the norm of the whole gradient. The
summary's final values are means over the last tenth of the steps. Same seed, same CSV.

Exit status: 0 on success, 2 on a bad option.
)";

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::size_t parse_size(const std::string& opt, const std::string& v) {
  errno = 0;
  char* end = nullptr;
  const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || v[0] == '-' || end != v.c_str() + v.size() || errno == ERANGE)
    throw usage_error(opt + ": '" + v + "' is not a whole number; expected e.g. 16");
  return static_cast<std::size_t>(x);
}

double parse_double(const std::string& opt, const std::string& v) {
  errno = 0;
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || errno == ERANGE || !std::isfinite(x))
    throw usage_error(opt + ": '" + v + "' is not a number; expected e.g. 0.01 or 3e-3");
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  attn::lab::config c;
  std::string csv, impl = "reference";
  bool quiet = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw usage_error(a + " needs a value (see --help)");
        return argv[++i];
      };
      if (a == "-h" || a == "--help") {
        std::cout << kUsage;
        return 0;
      } else if (a == "--scaling") {
        const std::string v = value();
        if (v != "scaled" && v != "unscaled") throw usage_error("--scaling: '" + v + "'; expected scaled or unscaled");
        c.scaled = v == "scaled";
      } else if (a == "--qk-layernorm") {
        c.qk_layernorm = true;
      } else if (a == "--lr") {
        c.lr = parse_double(a, value());
      } else if (a == "--d") {
        c.d = parse_size(a, value());
      } else if (a == "--pairs") {
        c.pairs = parse_size(a, value());
      } else if (a == "--queries") {
        c.queries = parse_size(a, value());
      } else if (a == "--keys") {
        c.keys = parse_size(a, value());
      } else if (a == "--values") {
        c.values = parse_size(a, value());
      } else if (a == "--batch") {
        c.batch = parse_size(a, value());
      } else if (a == "--steps") {
        c.steps = parse_size(a, value());
      } else if (a == "--init-scale") {
        c.init_scale = parse_double(a, value());
      } else if (a == "--seed") {
        c.seed = parse_size(a, value());
      } else if (a == "--csv") {
        csv = value();
      } else if (a == "--impl") {
        impl = value();
        if (impl != "reference" && impl != "solutions" && impl != "exercises")
          throw usage_error("--impl: '" + impl + "'; expected reference, solutions or exercises");
      } else if (a == "--quiet") {
        quiet = true;
      } else {
        throw usage_error("unknown option '" + a + "' (see --help)");
      }
    }
    if (c.steps < 1) throw usage_error("--steps must be at least 1");
    attn::lab::validate(c);
  } catch (const std::exception& e) {
    std::cerr << (std::string_view(e.what()).starts_with("attn_lab") ? "" : "attn_lab: ") << e.what() << "\n";
    return 2;
  }
  const attn::lab::ops<float>* f = &attn::lab::reference_ops();
  if (impl != "reference") {
    f = attn::lab::flavour_ops();
    if (!f || std::string_view(f->name) != impl) {
      std::cerr << "attn_lab: --impl " << impl << ": this program was built with "
                << (f ? f->name : "the reference only") << "; run attn_lab_" << impl
                << " (./attn lab --impl " << impl << " builds and runs it)\n";
      return 2;
    }
  }
  std::ofstream out;
  if (!csv.empty()) {
    out.open(csv);
    if (!out) {
      std::cerr << "attn_lab: --csv: cannot write '" << csv << "'\n";
      return 2;
    }
    out << "step,loss,entropy,max_score,grad_norm\n";
    out.precision(9);
  }
  const std::size_t every = std::max<std::size_t>(1, c.steps / 10);
  const auto t0 = std::chrono::steady_clock::now();
  const char* variant = c.qk_layernorm ? (c.scaled ? "scaled+qk-layernorm" : "unscaled+qk-layernorm")
                                       : (c.scaled ? "scaled" : "unscaled");
  try {
    auto stats = attn::lab::train(c, *f, [&](std::size_t step, const attn::lab::step_stats& s) {
      if (out) out << step << ',' << s.loss << ',' << s.entropy << ',' << s.max_score << ',' << s.grad_norm << '\n';
      if (!quiet && (step % every == 0 || step + 1 == c.steps || !std::isfinite(s.loss)))
        std::printf("  step %5zu/%zu  loss %8.4f  entropy %6.3f  max|score| %9.3f  grad %9.4f\n", step + 1, c.steps,
                    s.loss, s.entropy, s.max_score, s.grad_norm);
    });
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::size_t tail = std::max<std::size_t>(1, stats.size() / 10);
    double loss = 0, ent = 0, sm = 0;
    for (std::size_t i = stats.size() - tail; i < stats.size(); ++i) {
      loss += stats[i].loss;
      ent += stats[i].entropy;
      sm = std::max(sm, stats[i].max_score);
    }
    std::printf("attn_lab: %s, lr %g, d %zu, n %zu, %zu steps%s (%s): final loss %.4f, entropy %.3f, max|score| %.2f"
                " (chance loss ln %zu = %.4f) in %.2f s\n",
                variant, c.lr, c.d, c.n(), stats.size(), stats.size() < c.steps ? " (stopped: loss not finite)" : "",
                f->name, loss / static_cast<double>(tail), ent / static_cast<double>(tail), sm, c.values,
                std::log(static_cast<double>(c.values)), secs);
  } catch (const std::exception& e) {
    std::cerr << "attn_lab: training failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
