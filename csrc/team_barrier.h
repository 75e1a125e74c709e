// A barrier for the threads of one OpenMP team that spins briefly before it sleeps.
//
// pydyfast runs OpenMP with OMP_WAIT_POLICY=PASSIVE (pydyfast/process.py), so every
// `#pragma omp barrier` puts the early thread to sleep in a futex at once and the last one must
// wake it: a few microseconds each when the team is in step (measured 3.6 us on this 2-core
// VM, against 0.07 us for a spinning barrier), tens of microseconds when the sleeper has to be
// scheduled again. A Llama decode step had 63 barriers between short phases (now 25), so
// libgomp's barrier cost more than the second thread saved. This one spins briefly, then sleeps
// in the futex itself: in-step teams never sleep, and a thread whose partner lost its core
// stops taking cycles after a few microseconds.
#pragma once
#include <atomic>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PYDYFAST_CPU_RELAX() _mm_pause()
#else
#define PYDYFAST_CPU_RELAX() ((void)0)
#endif

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#include <thread>
#endif

namespace pydyfast {

class TeamBarrier {
 public:
  // Every one of the `team` threads calls this; all return after the last one has arrived, and
  // each sees the memory writes the others made before their call.
  void wait(int team) {
    if (team <= 1) return;
    const std::uint32_t gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == team - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      // seq_cst store and load against the sleeper's seq_cst increment and load: either it
      // sees the new generation or this sees it counted (store-load order matters here).
      generation_.store(gen + 1, std::memory_order_seq_cst);
      if (sleepers_.load(std::memory_order_seq_cst)) wake_all();
      return;
    }
    for (int i = 0; i < kSpins; ++i) {
      if (generation_.load(std::memory_order_acquire) != gen) return;
      PYDYFAST_CPU_RELAX();
    }
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    while (generation_.load(std::memory_order_seq_cst) == gen) sleep_while(gen);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  // About 2.5 us (a pause is ~25 ns on Zen 4, ~40 ns on Skylake-X): longer than the arrival
  // skew of the decode's evenly split phases, shorter than a futex round trip. On the loaded
  // 2-core VM (load 5), a 2-thread decode step was 6-9% slower spinning 10 us than 1 us (and
  // 2.5 us within 4% of 1 us): a spinning thread holds a core that the others on the machine,
  // its partner among them, are queued for. Not tuned on an idle machine.
  static constexpr int kSpins = 100;

#ifdef __linux__
  // The futex sleeps only while generation_ still equals gen, so a release between the check
  // and the sleep is not missed.
  void sleep_while(std::uint32_t gen) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&generation_), FUTEX_WAIT_PRIVATE, gen,
            nullptr, nullptr, 0);
  }
  void wake_all() {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&generation_), FUTEX_WAKE_PRIVATE,
            INT32_MAX, nullptr, nullptr, 0);
  }
#else
  void sleep_while(std::uint32_t) { std::this_thread::yield(); }
  void wake_all() {}
#endif

  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
                "the futex word is the atomic's storage");
  alignas(64) std::atomic<std::uint32_t> generation_{0};
  alignas(64) std::atomic<int> arrived_{0};
  std::atomic<int> sleepers_{0};
};

}  // namespace pydyfast
