/* LD_PRELOAD shim for bench/run.sh: counts public child derivations (each
 * calls secp256k1_ec_pubkey_combine once, or secp256k1_ec_pubkey_tweak_add
 * once for a tweak that secp256k1_ec_pubkey_create refuses: see
 * lib/keys/derive.cpp, point_add_tweak) and prints the count at exit, so that
 * run.sh can tell how many derivations a cold-pool run did per hand-out
 * (duplicated work shows up as more than one). Benchmark tooling only; never
 * linked into anything. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

typedef int (*combine_fn)(const void*, void*, const void* const*, size_t);
typedef int (*tweak_fn)(const void*, void*, const unsigned char*);

static atomic_long calls;

/* dlsym's object pointer to a function pointer without the ISO C cast. */
static void resolve(void* fn, size_t size, const char* name) {
    void* sym = dlsym(RTLD_NEXT, name);
    memcpy(fn, &sym, size);
}

int secp256k1_ec_pubkey_combine(const void* ctx, void* out, const void* const* ins, size_t n) {
    static combine_fn real;
    if (real == NULL) resolve(&real, sizeof real, "secp256k1_ec_pubkey_combine");
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return real(ctx, out, ins, n);
}

int secp256k1_ec_pubkey_tweak_add(const void* ctx, void* pubkey, const unsigned char* tweak) {
    static tweak_fn real;
    if (real == NULL) resolve(&real, sizeof real, "secp256k1_ec_pubkey_tweak_add");
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return real(ctx, pubkey, tweak);
}

__attribute__((destructor)) static void report(void) {
    fprintf(stderr, "derivations=%ld\n", (long)atomic_load(&calls));
}
