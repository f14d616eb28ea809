// addrpool — which symbols the shared library exports.
//
// libaddrpool is built with hidden visibility: only what is marked
// ADDRPOOL_EXPORT (the C++ API: every public class and free function in
// include/addrpool/*.hpp) or ADDRPOOL_API (the C ABI, addrpool.h) is in its
// dynamic symbol table; everything in addrpool::detail and every helper
// stays internal. The two macros expand to the same attribute (a test
// checks it), so the C and C++ APIs follow one rule. ADDRPOOL_NO_EXPORT marks
// what an exported class declares but keeps to itself (its Impl). Users need
// not use these macros themselves.
#ifndef ADDRPOOL_EXPORT_HPP
#define ADDRPOOL_EXPORT_HPP

#if defined(__GNUC__) || defined(__clang__)
#define ADDRPOOL_EXPORT __attribute__((visibility("default")))
#define ADDRPOOL_NO_EXPORT __attribute__((visibility("hidden")))
#else
#define ADDRPOOL_EXPORT
#define ADDRPOOL_NO_EXPORT
#endif

#endif  // ADDRPOOL_EXPORT_HPP
