// A small pool: parked helpers wait on a condition variable for the next call's
// generation; the caller publishes the work, runs it too, then closes the call to helpers
// that have not taken it yet and waits for those that have.
#include "thread_pool.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>  // getpid: a forked child has none of its parent's threads
#define ATTN_POOL_FORK_CHECK 1
#endif

namespace attn::ref::detail {
namespace {

class pool {
 public:
  pool() {
#if ATTN_POOL_FORK_CHECK
    owner_ = getpid();
#endif
  }

  ~pool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    // The helpers join here (std::jthread).
  }

  /// False when the pool cannot take this call (another call holds it, or this is a
  /// forked child): then the caller runs it without the pool.
  bool run(std::size_t helpers, const std::function<void()>& work) {
#if ATTN_POOL_FORK_CHECK
    if (getpid() != owner_) return false;
#endif
    std::unique_lock call(calls_, std::try_to_lock);
    if (!call.owns_lock()) return false;
    {
      std::lock_guard lock(mutex_);
      while (threads_.size() < helpers) threads_.emplace_back([this] { serve(); });
      job_ = &work;
      open_ = helpers;
      published_.store(++generation_, std::memory_order_release);
    }
    wake_.notify_all();
    work();
    std::unique_lock lock(mutex_);
    open_ = 0;  // a helper that has not taken the call yet: nothing would be left for it
    if (running_ != 0) {
      // The helpers still running have a share of about one block left: watch for their end
      // for a moment before sleeping, since waking from the condition variable takes tens of
      // microseconds on a virtual machine (5% of a two-thread causal 1024 x 1024 x 64 call).
      lock.unlock();
      for (int spin = 0; spin < kSpins && busy_.load(std::memory_order_acquire) != 0; ++spin) {
        std::this_thread::yield();
      }
      lock.lock();
    }
    done_.wait(lock, [this] { return running_ == 0; });
    job_ = nullptr;
    return true;
  }

 private:
  void serve() {
    std::uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
      // Calls often come back to back (a training loop, a benchmark): watch for the next
      // one for a moment before sleeping, since waking from the condition variable takes
      // tens of microseconds on a virtual machine.
      lock.unlock();
      for (int spin = 0; spin < kSpins && published_.load(std::memory_order_acquire) == seen; ++spin) {
        std::this_thread::yield();
      }
      lock.lock();
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (open_ == 0) continue;  // closed before this helper woke, or enough helpers
      --open_;
      ++running_;
      busy_.store(running_, std::memory_order_relaxed);
      const std::function<void()>* job = job_;
      lock.unlock();
      (*job)();
      lock.lock();
      busy_.store(--running_, std::memory_order_release);
      if (running_ == 0) done_.notify_one();
    }
  }

  std::mutex calls_;  // one call at a time
  std::mutex mutex_;  // everything below
  std::condition_variable wake_, done_;
  const std::function<void()>* job_ = nullptr;
  std::uint64_t generation_ = 0;
  std::atomic<std::uint64_t> published_{0};  // generation_, for the helpers' spin without the lock
  static constexpr int kSpins = 2000;
  std::size_t open_ = 0;     // helpers that may still take the current call
  std::size_t running_ = 0;  // helpers running it
  std::atomic<std::size_t> busy_{0};  // running_, for the caller's spin without the lock
  bool stopping_ = false;
#if ATTN_POOL_FORK_CHECK
  pid_t owner_;
#endif
  std::vector<std::jthread> threads_;  // last: destroyed (joined) first
};

}  // namespace

void run_on_threads(std::size_t count, const std::function<void()>& work) {
  if (count <= 1) {
    work();
    return;
  }
  static pool helpers;
  if (helpers.run(count - 1, work)) return;
  std::vector<std::jthread> own;
  for (std::size_t t = 1; t < count; ++t) own.emplace_back(work);
  work();
}  // the caller's own helpers join here

}  // namespace attn::ref::detail
