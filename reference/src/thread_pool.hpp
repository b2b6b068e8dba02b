// The helper threads of attention_weights(), started once and kept: starting a thread
// costs tens of microseconds, a few percent of a whole causal 1024 x 1024 x 64 problem,
// while waking a parked one costs a few. Used by softmax.cpp.
#pragma once

#include <cstddef>
#include <functional>

namespace attn::ref::detail {

/// Runs `work` on the calling thread and on up to `count` - 1 helpers at the same time,
/// and returns when every run has returned. `work` must share its work out itself (each
/// run takes what is left) and must not throw: a helper that joins late, after the others
/// have taken everything, finds nothing left, and one that has not started when the
/// caller's run returns is not started at all. The helpers are parked between calls and
/// started the first time they are needed. If another thread's call holds them (calls from
/// several threads at once), or in a child process after fork(), this call starts its own
/// helpers for itself, as if there were no pool.
void run_on_threads(std::size_t count, const std::function<void()>& work);

}  // namespace attn::ref::detail
