/* launch.cpp — kernels on the CPU with CUDA's semantics: the grid's blocks one after another;
 * the threads of a block as cooperative fibers (their own stacks, started with ucontext) that
 * switch at __syncthreads().
 *
 * Orders (DTEMU_ORDER, dtemu_set_order): blocks, and the fibers of a block at every barrier,
 * run forward, in reverse, or in a new seeded shuffle each time. A kernel whose results change
 * with the order has a race: a missing barrier, two threads writing one place, a read of
 * another thread's write that nothing orders.
 *
 * A fiber per thread costs two context switches and most kernels have no barrier, so each
 * block's first thread runs on a fiber and, when it ends without reaching a barrier, the rest
 * are called directly, in the same order: CUDA requires every thread of a block to reach the
 * same barriers, so none of them will. One that does anyway is reported and ends the process,
 * since on hardware that block would hang or corrupt. DTEMU_FIBERS=always puts every thread on
 * a fiber. */
/* _longjmp between fiber stacks is what the fibers are for: not a fortify error. */
#undef _FORTIFY_SOURCE
#include <setjmp.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <numeric>
#include <string>
#include <vector>

#include "emu.h"

#if defined(__SANITIZE_ADDRESS__)
#define DTEMU_ASAN 1
extern "C" void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
extern "C" void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
#endif

__thread uint3 threadIdx, blockIdx; /* __thread: see cuda_runtime.h */
__thread dim3 blockDim, gridDim;

namespace dtemu {

/* ---- orders ---------------------------------------------------------------------------------- */

enum order_kind { ORDER_FORWARD, ORDER_REVERSE, ORDER_SHUFFLE };

struct order_state {
    order_kind kind = ORDER_FORWARD;
    uint64_t rng = 0;
};

/* Parses "forward", "reverse" or "shuffle[:SEED]" into o; false when it is none of them. */
static bool parse_order(const char *spec, order_state *o) {
    if (!strcmp(spec, "forward")) o->kind = ORDER_FORWARD;
    else if (!strcmp(spec, "reverse")) o->kind = ORDER_REVERSE;
    else if (!strncmp(spec, "shuffle", 7) && (spec[7] == '\0' || spec[7] == ':')) {
        o->kind = ORDER_SHUFFLE;
        o->rng = spec[7] == ':' ? strtoull(spec + 8, nullptr, 10) : 1;
    } else return false;
    return true;
}

static order_state &order() {
    static order_state o = [] {
        order_state v;
        const char *spec = getenv("DTEMU_ORDER");
        if (spec && *spec && !parse_order(spec, &v)) {
            fprintf(stderr, "dtemu: DTEMU_ORDER=%s: expected forward, reverse or shuffle[:SEED]\n", spec);
            exit(2);
        }
        return v;
    }();
    return o;
}

static uint64_t splitmix(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The indices 0..n-1 in the current order (a fresh permutation per call when shuffling). */
static void arrange(std::vector<unsigned> &items) {
    order_state &o = order();
    if (o.kind == ORDER_REVERSE) std::reverse(items.begin(), items.end());
    else if (o.kind == ORDER_SHUFFLE)
        for (size_t i = items.size(); i > 1; i--) std::swap(items[i - 1], items[splitmix(&o.rng) % i]);
}

/* ---- fibers ---------------------------------------------------------------------------------- */

enum fiber_state { FIBER_READY, FIBER_AT_BARRIER, FIBER_DONE };

struct fiber {
    ucontext_t context;     /* where the fiber starts (makecontext) */
    jmp_buf suspended;      /* where it waits at a barrier */
    bool started = false;
    char *stack = nullptr;  /* usable part, above a guard page */
    size_t stack_size = 0;
    fiber_state state = FIBER_READY;
    uint3 index{};
    void *asan_fake_stack = nullptr;
};

static const size_t STACK_SIZE = (size_t)256 << 10;
/* Reused from launch to launch. A deque: growing it must not move a suspended fiber, whose
 * saved context points into itself. */
static std::deque<fiber> fibers;
static jmp_buf scheduler;
static fiber *running = nullptr;          /* the fiber now running; NULL on the scheduler */
static bool direct = false;               /* threads called directly: no barrier may be reached */
static const char *running_kernel = "";
static const std::function<void()> *running_body = nullptr;
#ifdef DTEMU_ASAN
static const void *scheduler_stack_bottom = nullptr;
static size_t scheduler_stack_size = 0;
#endif

static void fibers_reserve(size_t n) {
    const long page = sysconf(_SC_PAGESIZE);
    while (fibers.size() < n) {
        fibers.emplace_back();
        fiber &f = fibers.back();
        /* a guard page below the stack: an overflow faults instead of corrupting a neighbour */
        void *mem = mmap(nullptr, STACK_SIZE + (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED || mprotect(mem, (size_t)page, PROT_NONE) != 0) {
            fprintf(stderr, "dtemu: out of memory for fiber stacks (%zu threads)\n", n);
            exit(2);
        }
        f.stack = (char *)mem + page;
        f.stack_size = STACK_SIZE;
        getcontext(&f.context); /* once: makecontext reuses it for every thread the fiber runs */
    }
}

/* Switches from the running fiber back to the scheduler (at a barrier or at the end). A
 * fiber starts with setcontext and switches with _setjmp/_longjmp afterwards: swapcontext
 * would also save and restore the signal mask, a system call each way. */
static void to_scheduler(fiber *f, bool finished) {
    stats().fiber_switches++;
#ifdef DTEMU_ASAN
    __sanitizer_start_switch_fiber(finished ? nullptr : &f->asan_fake_stack, scheduler_stack_bottom,
                                   scheduler_stack_size);
#endif
    if (finished || _setjmp(f->suspended) == 0) _longjmp(scheduler, 1);
#ifdef DTEMU_ASAN
    __sanitizer_finish_switch_fiber(f->asan_fake_stack, nullptr, nullptr);
#endif
}

static void fiber_main() {
    fiber *f = running;
#ifdef DTEMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &scheduler_stack_bottom, &scheduler_stack_size);
#endif
    (*running_body)();
    f->state = FIBER_DONE;
    to_scheduler(f, true);
}

/* Runs fiber f until it reaches a barrier or ends. */
static void resume(fiber &f) {
    threadIdx = f.index;
    running = &f;
    stats().fiber_switches++;
#ifdef DTEMU_ASAN
    void *fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, f.stack, f.stack_size);
#endif
    if (_setjmp(scheduler) == 0) {
        if (f.started) _longjmp(f.suspended, 1);
        f.started = true;
        setcontext(&f.context);
    }
#ifdef DTEMU_ASAN
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
    running = nullptr;
}

/* Prepares fiber t to run thread index idx from its start. */
static void fiber_start(fiber &f, uint3 idx) {
    f.state = FIBER_READY;
    f.started = false;
    f.index = idx;
    f.context.uc_stack.ss_sp = f.stack;
    f.context.uc_stack.ss_size = f.stack_size;
    f.context.uc_link = nullptr;
    makecontext(&f.context, fiber_main, 0);
}

/* One block. Its first thread (in the current order) runs on a fiber: when it ends without a
 * barrier, CUDA's rule that every thread of a block reaches the same barriers says none will,
 * and the others are called directly, one after another. Otherwise every thread gets a fiber,
 * and each round resumes the ready fibers in the current order until all have reached the
 * barrier (or ended); a round that leaves none waiting ends the block. */
static void run_block(const std::vector<uint3> &indices, bool always_fibers) {
    const size_t n = indices.size();
    fibers_reserve(always_fibers ? n : 1);
    fiber_start(fibers[0], indices[0]);
    resume(fibers[0]);
    if (fibers[0].state == FIBER_DONE && !always_fibers) {
        direct = true;
        for (size_t t = 1; t < n; t++) {
            threadIdx = indices[t];
            (*running_body)();
        }
        direct = false;
        return;
    }
    fibers_reserve(n);
    for (size_t t = 1; t < n; t++) fiber_start(fibers[t], indices[t]);
    std::vector<unsigned> round(n);
    for (;;) {
        bool waiting = false, ran = false;
        std::iota(round.begin(), round.end(), 0u);
        arrange(round);
        for (unsigned t : round) {
            if (fibers[t].state != FIBER_READY) continue;
            resume(fibers[t]);
            ran = true;
        }
        for (size_t t = 0; t < n; t++)
            if (fibers[t].state == FIBER_AT_BARRIER) {
                fibers[t].state = FIBER_READY;
                waiting = true;
            }
        if (!waiting) break;
        if (ran) stats().barriers++;
    }
}

} // namespace dtemu

void __syncthreads(void) {
    using namespace dtemu;
    if (direct || !running) {
        /* On hardware this hangs or corrupts: the block's first thread ended without it. */
        fprintf(stderr, "dtemu: kernel %s: a thread reached __syncthreads() that the block's first thread never "
                        "reached; CUDA requires every thread of a block to reach the same barriers\n",
                running_kernel);
        abort();
    }
    running->state = FIBER_AT_BARRIER;
    to_scheduler(running, false);
}

extern "C" int dtemu_set_order(const char *spec) {
    dtemu::order_state o;
    if (!dtemu::parse_order(spec, &o)) return -1;
    dtemu::order() = o;
    return 0;
}

namespace dtemu {

static uint3 unflatten(unsigned i, dim3 d) { return uint3{i % d.x, (i / d.x) % d.y, i / (d.x * d.y)}; }

/* Runs a launch: every block, in the current order. */
static void run_kernel(const char *name, dim3 grid, dim3 block, const std::function<void()> &body) {
    static const bool always_fibers = [] {
        const char *v = getenv("DTEMU_FIBERS");
        return v && !strcmp(v, "always");
    }();
    const unsigned n_blocks = grid.x * grid.y * grid.z, n_threads = block.x * block.y * block.z;
    gridDim = grid;
    blockDim = block;
    running_kernel = name;
    running_body = &body;
    std::vector<unsigned> block_order(n_blocks), thread_order(n_threads);
    std::iota(block_order.begin(), block_order.end(), 0u);
    arrange(block_order);
    std::vector<uint3> indices(n_threads);
    for (unsigned b : block_order) {
        blockIdx = unflatten(b, grid);
        std::iota(thread_order.begin(), thread_order.end(), 0u);
        arrange(thread_order);
        for (unsigned t = 0; t < n_threads; t++) indices[t] = unflatten(thread_order[t], block);
        run_block(indices, always_fibers);
    }
    stats().launches++;
    stats().threads += (uint64_t)n_blocks * n_threads;
}

void launch(const void *kernel, const char *name, dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
            std::function<void()> body, const arg_view *args, int n_args) {
    const int device = current_device();
    if (device < 0) return set_last_error(fail(cudaErrorNoDevice, "no CUDA-capable device is detected"));
    /* CUDA's limits (compute capability 7.5 to 12.x): at most 1024 threads a block, 64 in z;
     * grid y and z at most 65535; no dimension 0. */
    const unsigned long long threads = (unsigned long long)block.x * block.y * block.z;
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || threads == 0 || threads > 1024 || block.x > 1024 ||
        block.y > 1024 || block.z > 64 || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535 ||
        shared_bytes > (48u << 10)) {
        char text[200];
        snprintf(text, sizeof text, "invalid configuration argument: kernel %s with grid (%u, %u, %u), block (%u, %u, %u), "
                 "%zu bytes of dynamic shared memory", name, grid.x, grid.y, grid.z, block.x, block.y, block.z, shared_bytes);
        return set_last_error(fail(cudaErrorInvalidConfiguration, text));
    }
    const cudaError_t image = kernel_image(device);
    if (image != cudaSuccess) return set_last_error(image);
    if (inject_failure("kernel")) return set_last_error(fail(cudaErrorLaunchFailure, std::string("kernel ") + name +
                                                                                         ": failure injected by DTEMU_FAIL"));
    /* Every pointer-sized word of the arguments that points into an allocation is an access:
     * a read through a pointer to const, else a read and a write. */
    std::vector<mem_access> accesses;
    for (int i = 0; i < n_args; i++) {
        const unsigned char *bytes = (const unsigned char *)args[i].bytes;
        for (size_t off = 0; off + sizeof(void *) <= args[i].size; off += sizeof(void *)) {
            const void *word;
            memcpy(&word, bytes + off, sizeof word);
            if (word) accesses.push_back({word, 1, args[i].read_only ? ACCESS_READ : ACCESS_READ | ACCESS_WRITE, true});
        }
    }
    const cudaError_t status =
        enqueue(stream, std::string("kernel ") + name, accesses,
                [name, grid, block, body = std::move(body)]() { run_kernel(name, grid, block, body); },
                false);
    set_last_error(status);
}

} // namespace dtemu
