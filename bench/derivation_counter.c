/* LD_PRELOAD shim for bench/run.sh: counts calls of
 * secp256k1_ec_pubkey_tweak_add (one per public child derivation) and
 * prints the count at exit, so that run.sh can tell how many derivations a
 * cold-pool run did per hand-out (duplicated work shows up as more than one).
 * Benchmark tooling only; never linked into anything. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

typedef int (*tweak_fn)(const void*, void*, const unsigned char*);

static atomic_long calls;

int secp256k1_ec_pubkey_tweak_add(const void* ctx, void* pubkey, const unsigned char* tweak) {
    static tweak_fn real;
    if (real == NULL) {
        void* sym = dlsym(RTLD_NEXT, "secp256k1_ec_pubkey_tweak_add");
        memcpy(&real, &sym, sizeof real); /* object → function pointer without the ISO C cast */
    }
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return real(ctx, pubkey, tweak);
}

__attribute__((destructor)) static void report(void) {
    fprintf(stderr, "tweak_add_calls=%ld\n", (long)atomic_load(&calls));
}
