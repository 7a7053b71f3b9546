/* runtime.cpp — the CUDA runtime subset of the CPU emulator: pretend devices, device memory as
 * host allocations, copies and memsets, streams as in-order queues, events, errors, and the
 * check that every access to device memory is ordered after the accesses it conflicts with.
 *
 * Execution is lazy: an operation runs when the host waits for it (a stream, event or device
 * synchronization, a synchronous copy) or when a later operation depends on it. That is one of
 * the schedules real hardware may choose, the one that exposes a host that reads a result it
 * has not waited for. Ordering is tracked with vector clocks over streams at issue time, so a
 * missing synchronization is reported even when this schedule happens to hide it.
 *
 * One host thread drives the emulator (detrain's CUDA backend is used from one thread). */
#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "emu.h"

namespace dtemu {

/* ---- settings ------------------------------------------------------------------------------ */

struct arch {
    int major, minor;
    bool real, virt; /* SASS for this architecture, PTX for it */
};

struct settings_t {
    int devices = 0;
    int cc_major = 9, cc_minor = 0;
    size_t memory_bytes = (size_t)80 << 30;
    bool check_order = true;
    std::vector<arch> archs;
    std::string archs_text;
    std::map<std::string, long> fail_at; /* DTEMU_FAIL: api -> call number */
};

static int env_int(const char *name, int fallback) {
    const char *v = getenv(name);
    return v && *v ? atoi(v) : fallback;
}

/* "75-real,80,90-virtual", CMake's CUDA architectures: "80" means SASS and PTX. */
static std::vector<arch> parse_archs(const std::string &text) {
    std::vector<arch> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find_first_of(",;", start);
        if (end == std::string::npos) end = text.size();
        const std::string item = text.substr(start, end - start);
        const int number = atoi(item.c_str());
        if (number > 0) {
            arch a{number / 10, number % 10, true, true};
            if (item.find("-real") != std::string::npos) a.virt = false;
            if (item.find("-virtual") != std::string::npos) a.real = false;
            out.push_back(a);
        }
        start = end + 1;
    }
    return out;
}

static settings_t &settings() {
    static settings_t s = [] {
        settings_t v;
        v.devices = env_int("DTEMU_DEVICES", 0);
        const char *cc = getenv("DTEMU_CC");
        if (cc && *cc) sscanf(cc, "%d.%d", &v.cc_major, &v.cc_minor);
        v.memory_bytes = (size_t)env_int("DTEMU_MEMORY_MB", 81920) << 20;
        v.check_order = env_int("DTEMU_STREAM_CHECK", 1) != 0;
#ifdef DTEMU_ARCHS
        v.archs_text = DTEMU_ARCHS;
#else
        v.archs_text = "90";
#endif
        v.archs = parse_archs(v.archs_text);
        const char *fail = getenv("DTEMU_FAIL");
        for (std::string spec = fail ? fail : ""; !spec.empty();) {
            const size_t comma = spec.find(',');
            const std::string item = spec.substr(0, comma);
            const size_t colon = item.find(':');
            if (colon != std::string::npos) v.fail_at[item.substr(0, colon)] = atol(item.c_str() + colon + 1);
            spec = comma == std::string::npos ? "" : spec.substr(comma + 1);
        }
        return v;
    }();
    return s;
}

dtemu_stats &stats() {
    static dtemu_stats s{};
    return s;
}

double now_seconds() {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static std::map<std::string, long> &calls_counted() {
    static std::map<std::string, long> calls;
    return calls;
}

bool inject_failure(const char *api) {
    auto it = settings().fail_at.find(api);
    return it != settings().fail_at.end() && ++calls_counted()[api] == it->second;
}

cudaError_t kernel_image(int device) {
    (void)device;
    const settings_t &s = settings();
    for (const arch &a : s.archs) {
        /* SASS runs on the same major architecture at an equal or higher minor; PTX is compiled
         * for any device at or above its architecture. */
        if (a.real && a.major == s.cc_major && a.minor <= s.cc_minor) return cudaSuccess;
        if (a.virt && (a.major < s.cc_major || (a.major == s.cc_major && a.minor <= s.cc_minor))) return cudaSuccess;
    }
    char text[256];
    snprintf(text, sizeof text, "no kernel image is available for execution on the device (compute capability %d.%d; "
             "this build has %s)", s.cc_major, s.cc_minor, s.archs_text.c_str());
    return fail(cudaErrorNoKernelImageForDevice, text);
}

/* ---- errors -------------------------------------------------------------------------------- */

static cudaError_t last_error = cudaSuccess;
static cudaError_t detail_error = cudaSuccess;
static std::string detail_text;

cudaError_t fail(cudaError_t error, const std::string &text) {
    detail_error = error;
    detail_text = text;
    return error;
}

void set_last_error(cudaError_t error) {
    if (error != cudaSuccess) last_error = error;
}

/* ---- vector clocks: what each stream and the host are known to be ordered after ----------- */

struct stamp {
    int stream = -1;
    uint64_t seq = 0;
    std::string what;
};

struct vclock {
    std::vector<uint64_t> seq; /* by stream id */
    uint64_t get(int s) const { return (size_t)s < seq.size() ? seq[s] : 0; }
    void set(int s, uint64_t v) {
        if ((size_t)s >= seq.size()) seq.resize((size_t)s + 1, 0);
        seq[s] = v;
    }
    void join(const vclock &o) {
        if (o.seq.size() > seq.size()) seq.resize(o.seq.size(), 0);
        for (size_t i = 0; i < o.seq.size(); i++) seq[i] = std::max(seq[i], o.seq[i]);
    }
    bool covers(const stamp &st) const { return get(st.stream) >= st.seq; }
};

static vclock host_clock;

} // namespace dtemu

/* ---- graphs ------------------------------------------------------------------------------ */

/* A captured operation: what enqueue was given, to be queued again at every launch. */
struct graph_node {
    std::string what;
    std::vector<dtemu::mem_access> accesses;
    std::function<void()> run;
};

struct CUgraph_st {
    std::vector<graph_node> nodes;
};

struct CUgraphExec_st {
    std::vector<graph_node> nodes;
};

/* ---- streams ----------------------------------------------------------------------------- */

struct CUstream_st {
    int id = 0;
    int device = 0;
    bool legacy = false;   /* the device's legacy default stream (the NULL stream) */
    bool blocking = true;  /* synchronizes with the legacy stream (not cudaStreamNonBlocking) */
    bool destroyed = false;
    CUgraph_st *capture = nullptr; /* capturing into this graph (cudaStreamBeginCapture) */
    cudaStreamCaptureMode capture_mode = cudaStreamCaptureModeGlobal;
    bool capture_invalid = false;  /* an operation the capture cannot hold was asked for */
    uint64_t issued = 0, done = 0;
    dtemu::vclock clock;   /* ordered after: its last operation's dependencies */
    struct op {
        uint64_t seq;
        dtemu::vclock deps;
        std::function<void()> run;
    };
    std::deque<op> queue;
};

struct CUevent_st {
    bool timing = true;
    bool recorded = false;
    int stream = -1;
    uint64_t seq = 0;
    uint64_t records = 0;    /* the record the stream will execute last */
    bool done = false;
    double time = 0.0;
    dtemu::vclock clock;
};

namespace dtemu {

/* Owns what it holds: freed at exit (leak checkers see no leak), never before. */
template <class T> struct registry : std::vector<T *> {
    ~registry() {
        for (T *x : *this) delete x;
    }
    bool holds(const T *x) const { return std::find(this->begin(), this->end(), x) != this->end(); }
    /* Frees x now; false when the registry does not hold it (an unknown handle). */
    bool release(T *x) {
        auto it = std::find(this->begin(), this->end(), x);
        if (it == this->end()) return false;
        this->erase(it);
        delete x;
        return true;
    }
};

static registry<CUstream_st> streams; /* by id; ids never reused */
static std::vector<int> legacy_ids;        /* by device */
static int device_now = 0;

int current_device() { return settings().devices > 0 ? device_now : -1; }

static CUstream_st *legacy_stream(int device) {
    if (legacy_ids.size() <= (size_t)device) legacy_ids.resize((size_t)device + 1, -1);
    if (legacy_ids[device] < 0) {
        CUstream_st *s = new CUstream_st;
        s->id = (int)streams.size();
        s->device = device;
        s->legacy = true;
        streams.push_back(s);
        legacy_ids[device] = s->id;
    }
    return streams[legacy_ids[device]];
}

/* The stream a handle names; NULL when it is not a live stream. */
static CUstream_st *resolve(cudaStream_t handle) {
    if (current_device() < 0) return nullptr;
    if (handle == nullptr || handle == cudaStreamLegacy) return legacy_stream(device_now);
    for (CUstream_st *s : streams)
        if (s == handle) return s->destroyed ? nullptr : s;
    return nullptr;
}

int stream_device(cudaStream_t stream) {
    CUstream_st *s = resolve(stream);
    return s ? s->device : -1;
}

static std::string stream_text(const CUstream_st *s) {
    char text[96];
    if (s->legacy) snprintf(text, sizeof text, "the legacy default stream of device %d", s->device);
    else snprintf(text, sizeof text, "stream %d (%s) of device %d", s->id, s->blocking ? "blocking" : "non-blocking",
                  s->device);
    return text;
}

/* Runs the stream's queued operations up to `upto`, each after what it depends on. */
static void run_until(CUstream_st *s, uint64_t upto) {
    while (s->done < upto && !s->queue.empty()) {
        CUstream_st::op op = std::move(s->queue.front());
        s->queue.pop_front();
        for (size_t id = 0; id < op.deps.seq.size(); id++)
            if ((int)id != s->id && op.deps.seq[id] > streams[id]->done) run_until(streams[id], op.deps.seq[id]);
        op.run();
        s->done = op.seq;
    }
}

/* The host waits for stream s: everything queued on it runs and the host is ordered after it. */
static void host_waits_for(CUstream_st *s) {
    run_until(s, s->issued);
    host_clock.join(s->clock);
}

/* cudaSuccess, or — when a stream captures in a mode other than Relaxed — the capture made
 * invalid and cudaErrorStreamCaptureUnsupported: `api` (an allocation, a free, a
 * synchronization) is not allowed while a capture is under way. */
static cudaError_t unsafe_during_capture(const char *api) {
    for (CUstream_st *s : streams)
        if (s->capture && !s->destroyed && s->capture_mode != cudaStreamCaptureModeRelaxed) {
            s->capture_invalid = true;
            return fail(cudaErrorStreamCaptureUnsupported,
                        std::string(api) + ": operation not permitted when stream is capturing (" + stream_text(s) + ")");
        }
    return cudaSuccess;
}

void synchronize_device(int device) {
    for (CUstream_st *s : streams)
        if (s->device == device && !s->destroyed) host_waits_for(s);
}

/* ---- allocations ------------------------------------------------------------------------- */

struct allocation {
    uintptr_t base;
    size_t size;
    int device;            /* -1: pinned host memory */
    stamp last_write;      /* stream -1: never written */
    std::vector<stamp> reads; /* since the last write, the newest per stream */
};

static std::map<uintptr_t, allocation> allocations;
static std::vector<size_t> device_bytes;

static allocation *find(const void *ptr) {
    const uintptr_t p = (uintptr_t)ptr;
    auto it = allocations.upper_bound(p);
    if (it == allocations.begin()) return nullptr;
    --it;
    return p < it->second.base + it->second.size ? &it->second : nullptr;
}

bool find_allocation(const void *ptr, const void **base, size_t *size) {
    allocation *a = find(ptr);
    if (!a) return false;
    *base = (const void *)a->base;
    *size = a->size;
    return true;
}

static std::string size_text(size_t bytes) {
    char text[48];
    if (bytes >= ((size_t)1 << 20)) snprintf(text, sizeof text, "%.1f MiB", (double)bytes / (1 << 20));
    else snprintf(text, sizeof text, "%zu bytes", bytes);
    return text;
}

/* An access conflicts with an earlier one on the allocation that `clock` is not ordered after:
 * the earlier write (for any access), or an earlier read (for a write). */
static const stamp *unordered(const allocation &a, int mode, const vclock &clock) {
    if (a.last_write.stream >= 0 && !clock.covers(a.last_write)) return &a.last_write;
    if (mode & ACCESS_WRITE)
        for (const stamp &r : a.reads)
            if (!clock.covers(r)) return &r;
    return nullptr;
}

static void record_access(allocation &a, int mode, const stamp &st) {
    if (mode & ACCESS_WRITE) {
        a.last_write = st;
        a.reads.clear();
        return;
    }
    for (stamp &r : a.reads)
        if (r.stream == st.stream) {
            r = st;
            return;
        }
    a.reads.push_back(st);
}

cudaError_t enqueue(cudaStream_t handle, const std::string &what, const std::vector<mem_access> &accesses,
                    std::function<void()> run, bool host_waits) {
    if (current_device() < 0) return fail(cudaErrorNoDevice, "no CUDA-capable device is detected");
    CUstream_st *s = resolve(handle);
    if (!s) return fail(cudaErrorInvalidResourceHandle, what + ": invalid resource handle (not a live stream)");
    if (s->device != device_now)
        return fail(cudaErrorInvalidResourceHandle,
                    what + ": " + stream_text(s) + " used while device " + std::to_string(device_now) + " is current");
    if (s->capture) { /* recorded as it is, checked when a launch of the graph queues it */
        if (host_waits) {
            s->capture_invalid = true;
            return fail(cudaErrorStreamCaptureUnsupported, what + ": the host would wait for " + stream_text(s) +
                                                               ", which is capturing");
        }
        s->capture->nodes.push_back({what, accesses, std::move(run)});
        return cudaSuccess;
    }
    /* What the operation is ordered after: its stream, the host, and the legacy stream's rules. */
    vclock clock = s->clock;
    clock.join(host_clock);
    for (CUstream_st *t : streams) {
        if (t->device != s->device || t == s || t->destroyed) continue;
        if ((s->legacy && t->blocking) || (s->blocking && t->legacy)) clock.join(t->clock);
    }
    const stamp st{s->id, s->issued + 1, what + " on " + stream_text(s)};
    clock.set(s->id, st.seq);
    std::vector<allocation *> found(accesses.size(), nullptr);
    for (size_t i = 0; i < accesses.size(); i++) {
        const mem_access &acc = accesses[i];
        allocation *a = find(acc.ptr);
        const uintptr_t p = (uintptr_t)acc.ptr;
        if (!a || (!acc.optional && p + acc.bytes > a->base + a->size)) {
            if (acc.optional) continue;
            char text[192];
            snprintf(text, sizeof text, "%s: %zu bytes at %p are not inside one allocation of the emulated device",
                     what.c_str(), acc.bytes, acc.ptr);
            return fail(cudaErrorInvalidValue, text);
        }
        if (a->device >= 0 && a->device != s->device)
            return fail(cudaErrorIllegalAddress, what + " on device " + std::to_string(s->device) +
                                                     " uses memory allocated on device " + std::to_string(a->device));
        const stamp *other = settings().check_order ? unordered(*a, acc.mode, clock) : nullptr;
        if (other) {
            stats().unordered++;
            return fail(cudaErrorEmulatorUnorderedAccess,
                        "unordered access (CPU emulator): " + st.what + " " +
                            ((acc.mode & ACCESS_WRITE) ? "writes" : "reads") + " a " + size_text(a->size) +
                            " allocation that " + other->what + " " +
                            (other == &a->last_write ? "wrote" : "read") +
                            ", and no stream order, event or host synchronization puts the second after the first");
        }
        found[i] = a;
    }
    for (size_t i = 0; i < accesses.size(); i++)
        if (found[i]) record_access(*found[i], accesses[i].mode, st);
    s->issued = st.seq;
    s->clock = clock;
    s->queue.push_back({st.seq, clock, std::move(run)});
    if (host_waits) {
        run_until(s, st.seq);
        host_clock.join(clock);
    }
    return cudaSuccess;
}

} // namespace dtemu

using namespace dtemu;

/* ---- devices ----------------------------------------------------------------------------- */

extern "C" cudaError_t cudaGetDeviceCount(int *count) {
    if (!count) return cudaErrorInvalidValue;
    *count = settings().devices;
    if (*count <= 0)
        return fail(cudaErrorNoDevice,
                    "no CUDA-capable device is detected (CPU emulator: DTEMU_DEVICES is 0 or unset)");
    return cudaSuccess;
}

extern "C" cudaError_t cudaSetDevice(int device) {
    if (device < 0 || device >= settings().devices) return cudaErrorInvalidDevice;
    device_now = device;
    return cudaSuccess;
}

extern "C" cudaError_t cudaGetDevice(int *device) {
    if (!device) return cudaErrorInvalidValue;
    if (current_device() < 0) return cudaErrorNoDevice;
    *device = device_now;
    return cudaSuccess;
}

extern "C" cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device) {
    if (!prop) return cudaErrorInvalidValue;
    if (device < 0 || device >= settings().devices) return cudaErrorInvalidDevice;
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "dtemu pretend GPU %d (CPU emulator)", device);
    prop->totalGlobalMem = settings().memory_bytes;
    prop->sharedMemPerBlock = 48 << 10;
    prop->warpSize = 32;
    prop->maxThreadsPerBlock = 1024;
    prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
    prop->maxThreadsDim[2] = 64;
    prop->maxGridSize[0] = 0x7fffffff;
    prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
    prop->major = settings().cc_major;
    prop->minor = settings().cc_minor;
    prop->multiProcessorCount = 132;
    return cudaSuccess;
}

/* The pretend device's clock: an H100 SXM's boost clock, in kHz as CUDA gives it. */
static const int PRETEND_CLOCK_KHZ = 1980000;

extern "C" cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device) {
    cudaDeviceProp prop;
    if (!value) return cudaErrorInvalidValue;
    const cudaError_t error = cudaGetDeviceProperties(&prop, device);
    if (error != cudaSuccess) return error;
    if (attr == cudaDevAttrClockRate) *value = PRETEND_CLOCK_KHZ;
    else if (attr == cudaDevAttrMultiProcessorCount) *value = prop.multiProcessorCount;
    else return cudaErrorInvalidValue;
    return cudaSuccess;
}

extern "C" cudaError_t cudaDriverGetVersion(int *version) {
    if (!version) return cudaErrorInvalidValue;
    *version = CUDART_VERSION;
    return cudaSuccess;
}

extern "C" cudaError_t cudaRuntimeGetVersion(int *version) { return cudaDriverGetVersion(version); }

extern "C" cudaError_t cudaDeviceSynchronize(void) {
    if (current_device() < 0) return cudaErrorNoDevice;
    if (unsafe_during_capture("cudaDeviceSynchronize") != cudaSuccess) return cudaErrorStreamCaptureUnsupported;
    synchronize_device(device_now);
    return cudaSuccess;
}

extern "C" cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes) {
    if (!free_bytes || !total_bytes) return cudaErrorInvalidValue;
    if (current_device() < 0) return cudaErrorNoDevice;
    if (device_bytes.size() <= (size_t)device_now) device_bytes.resize((size_t)device_now + 1, 0);
    *total_bytes = settings().memory_bytes;
    *free_bytes = settings().memory_bytes - device_bytes[device_now];
    return cudaSuccess;
}

extern "C" cudaError_t cudaFuncGetAttributes(cudaFuncAttributes *attr, const void *func) {
    if (!attr || !func) return cudaErrorInvalidValue;
    if (current_device() < 0) return cudaErrorNoDevice;
    const cudaError_t image = kernel_image(device_now);
    if (image != cudaSuccess) return image;
    memset(attr, 0, sizeof *attr);
    attr->maxThreadsPerBlock = 1024;
    attr->ptxVersion = attr->binaryVersion = settings().cc_major * 10 + settings().cc_minor;
    return cudaSuccess;
}

/* ---- errors ------------------------------------------------------------------------------ */

extern "C" cudaError_t cudaGetLastError(void) {
    const cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}

extern "C" cudaError_t cudaPeekAtLastError(void) { return last_error; }

extern "C" const char *cudaGetErrorName(cudaError_t error) {
    switch (error) {
#define NAME(e) \
    case e: return #e;
        NAME(cudaSuccess) NAME(cudaErrorInvalidValue) NAME(cudaErrorMemoryAllocation)
        NAME(cudaErrorInitializationError) NAME(cudaErrorInvalidConfiguration) NAME(cudaErrorInvalidDevicePointer)
        NAME(cudaErrorInvalidMemcpyDirection) NAME(cudaErrorNoDevice) NAME(cudaErrorInvalidDevice)
        NAME(cudaErrorNoKernelImageForDevice) NAME(cudaErrorInvalidResourceHandle) NAME(cudaErrorNotReady)
        NAME(cudaErrorIllegalAddress) NAME(cudaErrorLaunchFailure) NAME(cudaErrorUnknown)
        NAME(cudaErrorIllegalState) NAME(cudaErrorStreamCaptureUnsupported) NAME(cudaErrorStreamCaptureInvalidated)
        NAME(cudaErrorEmulatorUnorderedAccess)
#undef NAME
    }
    return "cudaErrorUnrecognized";
}

extern "C" const char *cudaGetErrorString(cudaError_t error) {
    if (error == detail_error && !detail_text.empty()) return detail_text.c_str();
    switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorNoKernelImageForDevice: return "no kernel image is available for execution on the device";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalState: return "operation not permitted in the current state";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorEmulatorUnorderedAccess: return "unordered access between streams (CPU emulator)";
    default: return "unknown error";
    }
}

/* ---- memory ------------------------------------------------------------------------------ */

/* Registers [ptr, ptr + size) as device memory of `device`, or pinned host memory (-1). */
static void track(void *ptr, size_t size, int device) {
    allocations[(uintptr_t)ptr] = allocation{(uintptr_t)ptr, size, device, stamp{}, {}};
    if (device >= 0) {
        if (device_bytes.size() <= (size_t)device) device_bytes.resize((size_t)device + 1, 0);
        device_bytes[device] += size;
    }
}

extern "C" cudaError_t cudaMalloc(void **ptr, size_t size) {
    if (!ptr) return cudaErrorInvalidValue;
    *ptr = nullptr;
    if (current_device() < 0) return cudaErrorNoDevice;
    if (unsafe_during_capture("cudaMalloc") != cudaSuccess) return cudaErrorStreamCaptureUnsupported;
    if (inject_failure("cudaMalloc")) return fail(cudaErrorMemoryAllocation, "out of memory (injected by DTEMU_FAIL)");
    if (size == 0) return cudaSuccess;
    size_t free_bytes = 0, total = 0;
    cudaMemGetInfo(&free_bytes, &total);
    void *p = nullptr;
    if (size > free_bytes || posix_memalign(&p, 256, size) != 0) return cudaErrorMemoryAllocation;
    /* Device memory starts undefined: all ones (NaN as floats) makes a read before the first
     * write visible in the results. */
    memset(p, 0xff, size);
    track(p, size, device_now);
    *ptr = p;
    return cudaSuccess;
}

extern "C" cudaError_t cudaFree(void *ptr) {
    if (!ptr) return cudaSuccess;
    allocation *a = find(ptr);
    if (!a || a->base != (uintptr_t)ptr || a->device < 0) return cudaErrorInvalidValue;
    if (unsafe_during_capture("cudaFree") != cudaSuccess) return cudaErrorStreamCaptureUnsupported;
    synchronize_device(a->device); /* cudaFree waits for the device, as cuBLAS's documentation relies on */
    device_bytes[a->device] -= a->size;
    allocations.erase(a->base);
    free(ptr);
    return cudaSuccess;
}

extern "C" cudaError_t cudaHostAlloc(void **ptr, size_t size, unsigned int flags) {
    if (!ptr) return cudaErrorInvalidValue;
    *ptr = nullptr;
    if (unsafe_during_capture("cudaHostAlloc") != cudaSuccess) return cudaErrorStreamCaptureUnsupported;
    if (inject_failure("cudaHostAlloc")) return fail(cudaErrorMemoryAllocation, "out of memory (injected by DTEMU_FAIL)");
    void *p = nullptr;
    if (posix_memalign(&p, 256, size ? size : 1) != 0) return cudaErrorMemoryAllocation;
    memset(p, 0xff, size);
    track(p, size ? size : 1, -1);
    *ptr = p;
    return cudaSuccess;
}

extern "C" cudaError_t cudaMallocHost(void **ptr, size_t size) { return cudaHostAlloc(ptr, size, 0); }

extern "C" cudaError_t cudaHostGetDevicePointer(void **device_ptr, void *host_ptr, unsigned int flags) {
    allocation *a = find(host_ptr);
    if (!device_ptr || flags != 0 || !a || a->device >= 0)
        return fail(cudaErrorInvalidValue, "cudaHostGetDevicePointer: not pinned host memory of the emulator");
    *device_ptr = host_ptr;
    return cudaSuccess;
}

extern "C" cudaError_t cudaFreeHost(void *ptr) {
    if (!ptr) return cudaSuccess;
    allocation *a = find(ptr);
    if (!a || a->base != (uintptr_t)ptr || a->device >= 0) return cudaErrorInvalidValue;
    if (unsafe_during_capture("cudaFreeHost") != cudaSuccess) return cudaErrorStreamCaptureUnsupported;
    for (int d = 0; d < settings().devices; d++) synchronize_device(d);
    allocations.erase(a->base);
    free(ptr);
    return cudaSuccess;
}

/* Whether host memory at ptr is pinned (cudaHostAlloc), so copies read or write it when they run. */
static bool pinned(const void *ptr) {
    allocation *a = find(ptr);
    return a && a->device < 0;
}

static bool on_device(const void *ptr) {
    allocation *a = find(ptr);
    return a && a->device >= 0;
}

/* One copy, synchronous (cudaMemcpy, stream NULL) or not, with CUDA's rules for when the host
 * waits (README.md): pageable host sources are staged when the call is made. */
static cudaError_t copy(void *dst, const void *src, size_t count, cudaMemcpyKind kind, cudaStream_t stream,
                        bool synchronous, const char *api) {
    if (inject_failure(api)) return fail(cudaErrorUnknown, std::string(api) + ": failure injected by DTEMU_FAIL");
    if (count == 0) return cudaSuccess;
    if (!dst || !src) return cudaErrorInvalidValue;
    if (kind == cudaMemcpyDefault)
        kind = on_device(src) ? (on_device(dst) ? cudaMemcpyDeviceToDevice : cudaMemcpyDeviceToHost)
                              : (on_device(dst) ? cudaMemcpyHostToDevice : cudaMemcpyHostToHost);
    if (kind == cudaMemcpyHostToHost) {
        memmove(dst, src, count);
        return cudaSuccess;
    }
    if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDeviceToDevice) return cudaErrorInvalidMemcpyDirection;
    const bool from_device = kind != cudaMemcpyHostToDevice, to_device = kind != cudaMemcpyDeviceToHost;
    std::vector<mem_access> accesses;
    if (from_device || pinned(src)) accesses.push_back({src, count, ACCESS_READ, false});
    if (to_device || pinned(dst)) accesses.push_back({dst, count, ACCESS_WRITE, false});
    if ((from_device && !on_device(src)) || (to_device && !on_device(dst)))
        return fail(cudaErrorInvalidValue, std::string(api) + ": the " + (from_device && !on_device(src) ? "source" : "destination") +
                                               " is not device memory of the emulator, as the direction says it is");
    if (synchronous && unsafe_during_capture(api) != cudaSuccess) return cudaErrorStreamCaptureUnsupported;
    if (kind == cudaMemcpyHostToDevice && !pinned(src) && current_device() >= 0) {
        CUstream_st *s = resolve(stream);
        if (s && s->capture) {
            s->capture_invalid = true;
            return fail(cudaErrorStreamCaptureUnsupported,
                        std::string(api) + ": a copy from pageable host memory into a stream that is capturing");
        }
    }
    bool host_waits = false;
    std::function<void()> run = [dst, src, count]() { memmove(dst, src, count); };
    if (kind == cudaMemcpyHostToDevice && !pinned(src)) {
        /* Pageable source: staged now, so the caller may reuse its buffer at once. cudaMemcpy
         * also waits for the stream first, but not for the copy's arrival on the device. */
        auto staged = std::make_shared<std::vector<unsigned char>>((const unsigned char *)src,
                                                                   (const unsigned char *)src + count);
        run = [dst, staged]() { memcpy(dst, staged->data(), staged->size()); };
        if (synchronous && current_device() >= 0) {
            CUstream_st *legacy = legacy_stream(device_now);
            host_waits_for(legacy);
        }
    } else if (synchronous && kind != cudaMemcpyDeviceToDevice) {
        host_waits = true; /* pinned host to device, and device to any host memory */
    }
    stats().copies++;
    return enqueue(stream, api, accesses, std::move(run), host_waits);
}

extern "C" cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind) {
    return copy(dst, src, count, kind, nullptr, true, "cudaMemcpy");
}

extern "C" cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind,
                                       cudaStream_t stream) {
    return copy(dst, src, count, kind, stream, false, "cudaMemcpyAsync");
}

static cudaError_t set(void *ptr, int value, size_t count, cudaStream_t stream, const char *api) {
    if (inject_failure(api)) return fail(cudaErrorUnknown, std::string(api) + ": failure injected by DTEMU_FAIL");
    if (count == 0) return cudaSuccess;
    if (!on_device(ptr)) return fail(cudaErrorInvalidValue, std::string(api) + ": not device memory of the emulator");
    stats().memsets++;
    return enqueue(stream, api, {{ptr, count, ACCESS_WRITE, false}}, [ptr, value, count]() { memset(ptr, value, count); },
                   false);
}

extern "C" cudaError_t cudaMemset(void *ptr, int value, size_t count) {
    if (unsafe_during_capture("cudaMemset") != cudaSuccess) return cudaErrorStreamCaptureUnsupported;
    return set(ptr, value, count, nullptr, "cudaMemset");
}

extern "C" cudaError_t cudaMemsetAsync(void *ptr, int value, size_t count, cudaStream_t stream) {
    return set(ptr, value, count, stream, "cudaMemsetAsync");
}

/* ---- streams and events -------------------------------------------------------------------- */

extern "C" cudaError_t cudaStreamCreateWithFlags(cudaStream_t *stream, unsigned int flags) {
    if (!stream) return cudaErrorInvalidValue;
    if (current_device() < 0) return cudaErrorNoDevice;
    if (inject_failure("cudaStreamCreate")) return fail(cudaErrorUnknown, "cudaStreamCreate: failure injected by DTEMU_FAIL");
    legacy_stream(device_now); /* ids: the device's legacy stream first */
    CUstream_st *s = new CUstream_st;
    s->id = (int)streams.size();
    s->device = device_now;
    s->blocking = !(flags & cudaStreamNonBlocking);
    streams.push_back(s);
    *stream = s;
    return cudaSuccess;
}

extern "C" cudaError_t cudaStreamCreate(cudaStream_t *stream) { return cudaStreamCreateWithFlags(stream, 0); }

extern "C" cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    CUstream_st *s = resolve(stream);
    if (!s || s->legacy) return cudaErrorInvalidResourceHandle;
    run_until(s, s->issued); /* its work still completes, as in CUDA */
    delete s->capture;       /* an unfinished capture is dropped */
    s->capture = nullptr;
    s->destroyed = true;     /* kept: ids index the clocks */
    return cudaSuccess;
}

extern "C" cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    CUstream_st *s = resolve(stream);
    if (!s) return current_device() < 0 ? cudaErrorNoDevice : cudaErrorInvalidResourceHandle;
    if (s->capture) {
        s->capture_invalid = true;
        return fail(cudaErrorStreamCaptureUnsupported, "cudaStreamSynchronize: " + stream_text(s) + " is capturing");
    }
    if (unsafe_during_capture("cudaStreamSynchronize") != cudaSuccess) return cudaErrorStreamCaptureUnsupported;
    host_waits_for(s);
    return cudaSuccess;
}

static registry<CUevent_st> events;

static CUevent_st *event_of(cudaEvent_t e) {
    for (CUevent_st *x : events)
        if (x == e) return x;
    return nullptr;
}

extern "C" cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
    CUstream_st *s = resolve(stream);
    CUevent_st *e = event_of(event);
    if (!s || !e) return cudaErrorInvalidResourceHandle;
    if (e->recorded) s->clock.join(e->clock); /* later work on s runs after the event's */
    return cudaSuccess;
}

extern "C" cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags) {
    if (!event) return cudaErrorInvalidValue;
    CUevent_st *e = new CUevent_st;
    e->timing = !(flags & cudaEventDisableTiming);
    events.push_back(e);
    *event = e;
    return cudaSuccess;
}

extern "C" cudaError_t cudaEventCreate(cudaEvent_t *event) { return cudaEventCreateWithFlags(event, 0); }

extern "C" cudaError_t cudaEventDestroy(cudaEvent_t event) {
    return events.release(event) ? cudaSuccess : cudaErrorInvalidResourceHandle;
}

extern "C" cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
    CUevent_st *e = event_of(event);
    CUstream_st *s = resolve(stream);
    if (!e || !s) return cudaErrorInvalidResourceHandle;
    if (s->capture) /* CUDA records it as a node, for joins of captured streams: not emulated */
        return fail(cudaErrorStreamCaptureUnsupported, "cudaEventRecord into a capturing stream (not emulated)");
    const uint64_t record = ++e->records;
    e->done = false;
    const cudaError_t status = enqueue(stream, "cudaEventRecord", {}, [e, record]() {
        if (e->records == record) {
            e->time = now_seconds();
            e->done = true;
        }
    }, false);
    if (status != cudaSuccess) return status;
    e->recorded = true;
    e->stream = s->id;
    e->seq = s->issued;
    e->clock = s->clock;
    return cudaSuccess;
}

extern "C" cudaError_t cudaEventSynchronize(cudaEvent_t event) {
    CUevent_st *e = event_of(event);
    if (!e) return cudaErrorInvalidResourceHandle;
    if (unsafe_during_capture("cudaEventSynchronize") != cudaSuccess) return cudaErrorStreamCaptureUnsupported;
    if (!e->recorded) return cudaSuccess;
    run_until(streams[e->stream], e->seq);
    host_clock.join(e->clock);
    return cudaSuccess;
}

extern "C" cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end) {
    CUevent_st *a = event_of(start), *b = event_of(end);
    if (!ms || !a || !b) return cudaErrorInvalidResourceHandle;
    if (!a->timing || !b->timing || !a->recorded || !b->recorded) return cudaErrorInvalidResourceHandle;
    if (!a->done || !b->done) return cudaErrorNotReady;
    *ms = (float)((b->time - a->time) * 1e3);
    return cudaSuccess;
}

/* ---- graphs ------------------------------------------------------------------------------ */

static registry<CUgraph_st> graphs;
static registry<CUgraphExec_st> graph_execs;

extern "C" cudaError_t cudaStreamBeginCapture(cudaStream_t stream, enum cudaStreamCaptureMode mode) {
    CUstream_st *s = resolve(stream);
    if (!s) return cudaErrorInvalidResourceHandle;
    if (s->legacy) return fail(cudaErrorStreamCaptureUnsupported, "cudaStreamBeginCapture: the legacy stream cannot capture");
    if (s->capture) return fail(cudaErrorIllegalState, "cudaStreamBeginCapture: " + stream_text(s) + " is capturing already");
    if (inject_failure("cudaStreamBeginCapture"))
        return fail(cudaErrorUnknown, "cudaStreamBeginCapture: failure injected by DTEMU_FAIL");
    s->capture = new CUgraph_st;
    s->capture_mode = mode;
    s->capture_invalid = false;
    return cudaSuccess;
}

extern "C" cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t *graph) {
    CUstream_st *s = resolve(stream);
    if (!s || !graph) return cudaErrorInvalidResourceHandle;
    *graph = nullptr;
    if (!s->capture) return fail(cudaErrorIllegalState, "cudaStreamEndCapture: " + stream_text(s) + " is not capturing");
    CUgraph_st *g = s->capture;
    const bool invalid = s->capture_invalid;
    s->capture = nullptr;
    s->capture_invalid = false;
    if (invalid) {
        delete g;
        return fail(cudaErrorStreamCaptureInvalidated, "cudaStreamEndCapture: the capture was invalidated by an "
                                                       "operation it cannot hold");
    }
    graphs.push_back(g);
    *graph = g;
    return cudaSuccess;
}

extern "C" cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t graph, unsigned long long flags) {
    if (!exec || flags != 0 || !graphs.holds(graph))
        return cudaErrorInvalidValue;
    if (unsafe_during_capture("cudaGraphInstantiate") != cudaSuccess) return cudaErrorStreamCaptureUnsupported;
    if (inject_failure("cudaGraphInstantiate"))
        return fail(cudaErrorUnknown, "cudaGraphInstantiate: failure injected by DTEMU_FAIL");
    CUgraphExec_st *e = new CUgraphExec_st{graph->nodes};
    graph_execs.push_back(e);
    *exec = e;
    return cudaSuccess;
}

extern "C" cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
    if (!graph_execs.holds(exec)) return cudaErrorInvalidResourceHandle;
    CUstream_st *s = resolve(stream);
    if (s && s->capture) return fail(cudaErrorStreamCaptureUnsupported, "cudaGraphLaunch into a capturing stream (not emulated)");
    if (inject_failure("cudaGraphLaunch")) return fail(cudaErrorUnknown, "cudaGraphLaunch: failure injected by DTEMU_FAIL");
    stats().graph_launches++;
    for (const graph_node &node : exec->nodes) {
        const cudaError_t status = enqueue(stream, node.what + " (graph node)", node.accesses, node.run, false);
        if (status != cudaSuccess) return status;
    }
    return cudaSuccess;
}

extern "C" cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
    return graph_execs.release(exec) ? cudaSuccess : cudaErrorInvalidResourceHandle;
}

extern "C" cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
    return graphs.release(graph) ? cudaSuccess : cudaErrorInvalidResourceHandle;
}

extern "C" dtemu_stats dtemu_get_stats(void) { return stats(); }

extern "C" void dtemu_fail_call(const char *api, long call) {
    if (call > 0) settings().fail_at[api] = call;
    else settings().fail_at.erase(api);
    calls_counted()[api] = 0;
}
