// Step 1's worked example: the card's query and key, through the answer key's attn::dot.
// The docs build runs this program and shows its output beside the code.
#include <attn/attn.hpp>

#include <cstddef>
#include <cstdio>
#include <vector>

#include "print.hpp"

int main() {
  //! [example]
  const std::vector<float> q{2.0f, 0.5f, 1.0f, -1.5f};
  const std::vector<float> k{1.0f, 1.0f, -0.5f, 2.0f};
  docs::print_row("q", q, 1);
  docs::print_row("k", k, 1);
  for (std::size_t t = 0; t < q.size(); ++t) {
    std::printf("  q[%zu] k[%zu] = %5.2f * %5.2f = %5.2f\n", t, t, q[t], k[t],
                q[t] * k[t]);
  }
  std::printf("attn::dot(q, k) = %s\n", docs::num(attn::dot(q, k)).c_str());
  std::printf("attn::dot(q, q) = %s   (a query matches itself by its squared length)\n",
              docs::num(attn::dot(q, q)).c_str());
  //! [example]
}
