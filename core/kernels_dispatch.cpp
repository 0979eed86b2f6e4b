// Chooses the kernel table once, at start-up: the widest ISA that is compiled in and that the
// CPU reports (CPUID via the compiler's __builtin_cpu_supports), unless MINIREC_SIMD names one.
// Deliberately left out: per-kernel choices, non-x86 CPUs (they get the scalar path).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/kernels_isa.h"

namespace minirec {
namespace kernels {

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::scalar: return "scalar";
        case Isa::avx2: return "avx2";
        case Isa::avx512: return "avx512";
    }
    return "?";
}

static bool cpu_has(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    switch (isa) {
        case Isa::scalar: return true;
        case Isa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case Isa::avx512:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("fma");
    }
    return false;
#else
    return isa == Isa::scalar;
#endif
}

static const KernelTable* compiled(Isa isa) {
    switch (isa) {
        case Isa::scalar: return &scalar_table();
        case Isa::avx2: return avx2_table();
        case Isa::avx512: return avx512_table();
    }
    return nullptr;
}

bool isa_supported(Isa isa) { return compiled(isa) != nullptr && cpu_has(isa); }

const KernelTable& table(Isa isa) {
    if (!isa_supported(isa))
        arg_fail("kernels::table", std::string(isa_name(isa)) + " is not supported on this CPU");
    return *compiled(isa);
}

// The start-up choice: MINIREC_SIMD if set (an unknown or unsupported value is an error we
// report once on stderr before falling back), else the widest supported path.
static const KernelTable* choose() {
    const char* env = std::getenv("MINIREC_SIMD");
    if (env && *env) {
        for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
            if (std::strcmp(env, isa_name(isa)) != 0) continue;
            if (isa_supported(isa)) return compiled(isa);
            std::fprintf(stderr, "minirec: MINIREC_SIMD=%s is not supported on this CPU; "
                                 "using the best supported path\n", env);
            env = nullptr;
            break;
        }
        if (env)
            std::fprintf(stderr, "minirec: MINIREC_SIMD=%s is not one of scalar, avx2, avx512; "
                                 "using the best supported path\n", env);
    }
    for (Isa isa : {Isa::avx512, Isa::avx2})
        if (isa_supported(isa)) return compiled(isa);
    return &scalar_table();
}

static const KernelTable*& active_ptr() {
    static const KernelTable* p = choose();
    return p;
}

const KernelTable& active() { return *active_ptr(); }

void set_active(Isa isa) { active_ptr() = &table(isa); }

void set_active_table(const KernelTable& t) { active_ptr() = &t; }

}  // namespace kernels
}  // namespace minirec
