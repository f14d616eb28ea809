/* addrpool — the C ABI.
 *
 * A C11 interface to the lock-free AddressPool (include/addrpool/pool.hpp),
 * for callers in C, Rust, Go, Python ctypes, ... Link with
 * `pkg-config --cflags --libs addrpool` (add `--static` for libaddrpool.a,
 * which also needs the C++ runtime: link the program with a C++ driver or
 * add -lstdc++).
 *
 * Conventions (they hold for every function below unless its entry says
 * otherwise):
 *
 * - Status. Every function returns an addrpool_status: ADDRPOOL_OK (0) on
 *   success, or an error code. Codes 1..27 mirror addrpool::Errc one to one
 *   (same names, same numbers); codes from 100 up are C-only. The exceptions
 *   are the *_free functions, addrpool_last_error, addrpool_status_name and
 *   addrpool_version, which cannot fail.
 * - Last error. Every function that returns a status also sets a
 *   thread-local message, read by addrpool_last_error(): "" after a success,
 *   a one-line English description after a failure. Messages never contain
 *   secret material (private keys, seeds, mnemonic words, passphrases): they
 *   name the field or position that was wrong.
 * - Pointers. Every pointer argument must be non-NULL unless its entry says
 *   "may be NULL"; a NULL one gives ADDRPOOL_E_NULL_ARGUMENT and changes
 *   nothing. Input strings are NUL-terminated UTF-8 (ASCII in practice).
 * - Outputs on failure. Output arguments are cleared (0, false, NULL, "")
 *   before the first step that can fail, so after a failure they hold those
 *   values, never a partial result. A failed call changes nothing in the pool
 *   (in particular a failed addrpool_reserve holds no reservation).
 * - Strings out. Addresses are written by the hand-outs (addrpool_reserve,
 *   addrpool_reserve_with, addrpool_next_unused_and_reserve,
 *   addrpool_restore_reservation) and by addrpool_address_parse into a
 *   caller buffer of at least ADDRPOOL_ADDRESS_MAX bytes. Functions returning strings of other lengths
 *   (addrpool_address_at, addrpool_path_of, addrpool_base_path,
 *   addrpool_key_source_account_xpub) take
 *   (char *buf, size_t buf_len, size_t *required): on ADDRPOOL_OK and on
 *   ADDRPOOL_E_BUFFER_TOO_SMALL, *required (when `required` is non-NULL)
 *   is the size the string needs, NUL included. buf = NULL with buf_len = 0
 *   is a size query: it returns ADDRPOOL_OK, writes nothing and sets
 *   *required (then `required` must be non-NULL). A buffer too small for the
 *   string gives ADDRPOOL_E_BUFFER_TOO_SMALL and buf[0] = '\0'.
 * - Indices are below 2^31; a larger one gives ADDRPOOL_E_INDEX_OUT_OF_RANGE.
 * - Enumerations passed in are checked: a value outside the listed ones
 *   gives ADDRPOOL_E_INVALID_ARGUMENT.
 * - No function aborts, and no C++ exception escapes: allocation failure
 *   (also a count so large that no allocation could hold it) is
 *   ADDRPOOL_E_OUT_OF_MEMORY, anything unexpected ADDRPOOL_E_INTERNAL.
 * - Ownership. An addrpool_pool is created by one of the addrpool_pool_new*
 *   functions, addrpool_load[_ex] or addrpool_deserialize[_ex] and destroyed
 *   by addrpool_pool_free. It owns the AddressPool and its own key material (a
 *   copy of the account key, wiped when the pool is freed; none for
 *   addrpool_pool_new_keyless and addrpool_deserialize). An
 *   addrpool_key_source is created by one of the addrpool_key_source_*
 *   constructors or addrpool_key_source_clone and destroyed by
 *   addrpool_key_source_free. Byte buffers from addrpool_serialize are freed
 *   with addrpool_bytes_free. The library keeps no pointer to any argument
 *   after the call returns (a hand-out does not keep its key source).
 * - Secrets. Private keys, mnemonics, passphrases and seeds passed in are
 *   read in place; every copy the library makes of them (the account key
 *   inside a pool or key source, PBKDF2's buffers) is wiped when released.
 *   The caller owns, and should wipe, its own buffers.
 * - Threads. All functions may be called from any thread. Every function
 *   that takes a pool may run concurrently with every other such function on
 *   the same pool, without an external lock, except addrpool_pool_free: no
 *   call on that pool may be running or start after it. A key source is
 *   immutable: every function taking one may run concurrently with every
 *   other on the same key source, except addrpool_key_source_free (the same
 *   rule as addrpool_pool_free). Single-index
 *   operations (reserve, release, mark used, state) are linearizable; whole
 *   pool reads (stats, scan window) are exact snapshots only while no writer
 *   runs. "Lock-free" below means no mutex and no waiting for another
 *   thread; "blocking" means it may take a short internal mutex.
 * - Per-thread state. A thread that hashes (encoding an address, deriving)
 *   or uses a wallet set keeps small per-thread objects that its exit frees;
 *   while such a destructor is pending, glibc keeps the library loaded
 *   (dlclose does not unmap it).
 */
#ifndef ADDRPOOL_ADDRPOOL_H
#define ADDRPOOL_ADDRPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define ADDRPOOL_API __attribute__((visibility("default")))
#define ADDRPOOL_WARN_UNUSED_RESULT __attribute__((warn_unused_result))
#else
#define ADDRPOOL_API
#define ADDRPOOL_WARN_UNUSED_RESULT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes an address buffer needs, NUL included: every address this library
 * writes (Base58Check, 34 characters; DIP-18 bech32m, at most 46) fits. */
#define ADDRPOOL_ADDRESS_MAX 64

/* The most addresses a pool keeps derived ahead (addrpool_pool_options.lookahead):
 * one refill batch. The same value as the C++ pool's cap. */
#define ADDRPOOL_MAX_LOOKAHEAD 65536

/* The largest gap limit this ABI creates or loads pools with (2^20). It is
 * not tied to the lookahead: a pool with a larger gap limit still derives at
 * most ADDRPOOL_MAX_LOOKAHEAD addresses ahead. */
#define ADDRPOOL_MAX_GAP_LIMIT 1048576

/* Result of every fallible call. 1..27 equal addrpool::Errc; 100.. C-only. */
typedef enum {
    ADDRPOOL_OK = 0,
    ADDRPOOL_E_INVALID_ARGUMENT = 1,      /* an argument outside its documented range */
    ADDRPOOL_E_INVALID_ENCODING = 2,      /* not Base58 / bech32m, mixed case, wrong payload length */
    ADDRPOOL_E_BAD_CHECKSUM = 3,          /* Base58Check or bech32m checksum mismatch */
    ADDRPOOL_E_UNKNOWN_VERSION = 4,       /* version bytes / HRP / type byte Dash does not define */
    ADDRPOOL_E_NETWORK_MISMATCH = 5,      /* well formed, but for another network */
    ADDRPOOL_E_INVALID_PATH = 6,          /* derivation path syntax or range */
    ADDRPOOL_E_INVALID_MNEMONIC = 7,      /* word count, or a word not in the BIP39 English list */
    ADDRPOOL_E_MNEMONIC_CHECKSUM = 8,     /* every word valid, checksum wrong */
    ADDRPOOL_E_INVALID_SEED = 9,          /* seed length outside 16..64 bytes */
    ADDRPOOL_E_KEY_TYPE_MISMATCH = 10,    /* public version with private data or the reverse */
    ADDRPOOL_E_INVALID_PUBLIC_KEY = 11,   /* bad prefix, or not a point on secp256k1 */
    ADDRPOOL_E_INVALID_PRIVATE_KEY = 12,  /* bad prefix, zero, or not below the group order */
    ADDRPOOL_E_INVALID_KEY_METADATA = 13, /* depth 0 with a parent fingerprint or child number */
    ADDRPOOL_E_HARDENED_FROM_PUBLIC = 14, /* hardened derivation needs a private key */
    ADDRPOOL_E_INVALID_CHILD = 15,        /* derivation hit an invalid child (p < 2^-127) */
    ADDRPOOL_E_DEPTH_EXCEEDED = 16,       /* a key would be deeper than 255 */
    ADDRPOOL_E_NO_KEY_SOURCE = 17,        /* the pool must derive but holds no key */
    ADDRPOOL_E_GAP_LIMIT_REACHED = 18,    /* ADDRPOOL_GAP_ERROR and the gap window is full */
    ADDRPOOL_E_INDEX_OUT_OF_RANGE = 19,   /* an index >= 2^31, or all 2^31 indices taken */
    ADDRPOOL_E_IO_ERROR = 20,             /* the file system refused */
    ADDRPOOL_E_TRUNCATED = 21,            /* a pool file ends early */
    ADDRPOOL_E_BAD_MAGIC = 22,            /* not an addrpool file */
    ADDRPOOL_E_UNSUPPORTED_FORMAT = 23,   /* a file format version this build cannot read */
    ADDRPOOL_E_CORRUPT_DATA = 24,         /* content checksum mismatch */
    ADDRPOOL_E_INCONSISTENT_DATA = 25,    /* checksum fine, content contradicts itself */
    ADDRPOOL_E_INDEX_UNAVAILABLE = 26,    /* the index asked for is already used or reserved */
    ADDRPOOL_E_BACKEND_UNAVAILABLE = 27,  /* the shared pool's database is unreachable or timed out */

    ADDRPOOL_E_NULL_ARGUMENT = 100,       /* a required pointer was NULL */
    ADDRPOOL_E_BUFFER_TOO_SMALL = 101,    /* the output buffer cannot hold the string */
    ADDRPOOL_E_OUT_OF_MEMORY = 102,       /* an allocation failed; nothing changed */
    ADDRPOOL_E_INTERNAL = 103,            /* a bug in addrpool: please report it */

    ADDRPOOL_STATUS_ENUM_MAX = 0x7fffffff /* not a status: makes every int a valid value */
} addrpool_status;

/* testnet, devnet and regtest share every encoding (y... addresses, tprv/tpub). */
typedef enum {
    ADDRPOOL_MAINNET = 0,
    ADDRPOOL_TESTNET = 1,
    ADDRPOOL_DEVNET = 2,
    ADDRPOOL_REGTEST = 3,
    ADDRPOOL_NETWORK_ENUM_MAX = 0x7fffffff
} addrpool_network;

/* Where the addresses sit below the account key: EXTERNAL = account/0/i
 * (receive), INTERNAL = account/1/i (change), ABSENT = account/i,
 * ABSENT_HARDENED = account/i' (needs a private account key). */
typedef enum {
    ADDRPOOL_EXTERNAL = 0,
    ADDRPOOL_INTERNAL = 1,
    ADDRPOOL_ABSENT = 2,
    ADDRPOOL_ABSENT_HARDENED = 3,
    ADDRPOOL_POOL_TYPE_ENUM_MAX = 0x7fffffff
} addrpool_pool_type;

/* UNBOUNDED: hand out any index. ERROR: a hand-out that would pick an index
 * >= highest_used + 1 + gap_limit (>= gap_limit when nothing is used) fails
 * with ADDRPOOL_E_GAP_LIMIT_REACHED, so a wallet restored from the seed
 * with this gap limit finds every address it handed out. */
typedef enum {
    ADDRPOOL_GAP_UNBOUNDED = 0,
    ADDRPOOL_GAP_ERROR = 1,
    ADDRPOOL_GAP_POLICY_ENUM_MAX = 0x7fffffff
} addrpool_gap_policy;

/* BASE58CHECK: X... (mainnet) / y... (test networks). PLATFORM: DIP-18
 * bech32m (dash1k... / tdash1k...). ADDRPOOL_FORMAT_P2PKH is the old name of
 * ADDRPOOL_FORMAT_BASE58CHECK, kept for source compatibility (deprecated: it
 * names the script kind, not the encoding; both kinds have both encodings). */
typedef enum {
    ADDRPOOL_FORMAT_BASE58CHECK = 0,
    ADDRPOOL_FORMAT_P2PKH = ADDRPOOL_FORMAT_BASE58CHECK, /* deprecated alias */
    ADDRPOOL_FORMAT_PLATFORM = 1,
    ADDRPOOL_ADDRESS_FORMAT_ENUM_MAX = 0x7fffffff
} addrpool_address_format;

typedef enum {
    ADDRPOOL_STATE_UNUSED = 0,
    ADDRPOOL_STATE_RESERVED = 1,
    ADDRPOOL_STATE_USED = 2,
    ADDRPOOL_ADDRESS_STATE_ENUM_MAX = 0x7fffffff
} addrpool_address_state;

/* What a key source holds: NONE (derives nothing), PUBLIC (an account xpub:
 * every pool type except ABSENT_HARDENED), PRIVATE (an account xprv, or one
 * derived from a mnemonic or seed: every pool type). */
typedef enum {
    ADDRPOOL_KEY_NONE = 0,
    ADDRPOOL_KEY_PUBLIC = 1,
    ADDRPOOL_KEY_PRIVATE = 2,
    ADDRPOOL_KEY_KIND_ENUM_MAX = 0x7fffffff
} addrpool_key_kind;

/* Layout on x86-64 and aarch64 (checked by the C and Rust tests): size 48,
 * align 8; the five uint32_t at 0, 4, 8, 12, 16, the int64_t at 24, 32, 40. */
typedef struct {
    uint32_t generated, used, reserved, unused, gap_limit;
    int64_t highest_used, highest_reserved, highest_generated; /* -1 = none */
} addrpool_pool_stats;

/* Optional settings for addrpool_pool_new, addrpool_pool_new_from_seed,
 * addrpool_pool_new_from_mnemonic_ex and addrpool_pool_new_keyless. Fill with
 * addrpool_pool_options_init first, then change what you need. Its layout is
 * fixed (docs/api.md's ABI policy): later settings, such as derive_threads,
 * come in addrpool_pool_options_ex. Layout: size 12, align 4; fields at 0,
 * 4, 8. */
typedef struct {
    uint32_t lookahead;             /* addresses kept derived ahead; 0 = min(gap_limit,
                                       ADDRPOOL_MAX_LOOKAHEAD); at most ADDRPOOL_MAX_LOOKAHEAD */
    addrpool_gap_policy gap_policy; /* default ADDRPOOL_GAP_UNBOUNDED */
    addrpool_address_format format; /* default ADDRPOOL_FORMAT_BASE58CHECK */
} addrpool_pool_options;

/* An address pool with its own key material (possibly none). Opaque. */
typedef struct addrpool_pool addrpool_pool;

/* Account key material to derive a pool's addresses from, passed per
 * hand-out (addrpool_reserve_with, addrpool_next_unused_and_reserve).
 * Opaque and immutable: one key source may serve any number of pools and
 * threads at once. */
typedef struct addrpool_key_source addrpool_key_source;

/* ---- diagnostics ------------------------------------------------------- */

/* The message of the last call made on this thread that returns a status:
 * "" if it succeeded (or no call was made yet). Never NULL, never contains
 * secrets. The pointer stays valid until the next addrpool call on this
 * thread. Thread-local, lock-free. */
ADDRPOOL_API const char *addrpool_last_error(void);

/* The stable lowercase name of a status, e.g. "ok", "bad_checksum",
 * "null_argument" (the C++ errc_name for codes 1..27); "unknown" for a value
 * that is not a status. Never NULL; a static string. Does not touch the last
 * error. Reentrant, lock-free. */
ADDRPOOL_API const char *addrpool_status_name(addrpool_status status);

/* The version of the library that is loaded, "MAJOR.MINOR.PATCH" (e.g.
 * "0.1.0"). <addrpool/version.h> has the version a program was compiled
 * against (ADDRPOOL_VERSION_STRING and ADDRPOOL_VERSION_MAJOR/MINOR/PATCH);
 * docs/api.md's "ABI policy" says which differences matter. Returns a static
 * string, never NULL. Does not touch the last error. Reentrant, lock-free. */
ADDRPOOL_API const char *addrpool_version(void);

/* ---- creating and destroying pools ----------------------------------- */

/* Sets *options to the defaults (lookahead 0 = gap_limit, GAP_UNBOUNDED,
 * FORMAT_BASE58CHECK). Errors: NULL_ARGUMENT. Reentrant, lock-free. */
ADDRPOOL_API addrpool_status addrpool_pool_options_init(addrpool_pool_options *options)
    ADDRPOOL_WARN_UNUSED_RESULT;

/* A pool over an account-level extended key, with default options and
 * addresses' paths reported relative to the account key ("m/0/5").
 * Same as addrpool_pool_new(account_key, NULL, network, type, gap_limit,
 * NULL, out). */
ADDRPOOL_API addrpool_status addrpool_pool_new_from_key(const char *account_key, addrpool_network network,
                                                        addrpool_pool_type type, uint32_t gap_limit,
                                                        addrpool_pool **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* A pool over an account-level extended key.
 * account_key: "xprv..."/"xpub..." (mainnet) or "tprv..."/"tpub..." (test
 *   networks) of the account (e.g. m/44'/1'/0'). A private key is copied
 *   into the pool and wiped when the pool is freed.
 * account_path: may be NULL. The account key's full path, e.g.
 *   "m/44'/1'/0'", used only to report paths (addrpool_path_of); it must have
 *   as many components as the key's depth, the last one equal to the key's
 *   child number. NULL: paths are reported relative to the account key.
 * network: the key's encoding family must match (xprv/xpub: MAINNET only;
 *   tprv/tpub: TESTNET, DEVNET, REGTEST).
 * type: which chain below the account key (see addrpool_pool_type).
 * gap_limit: 0 .. ADDRPOOL_MAX_GAP_LIMIT (2^20). 0 is accepted, as by
 *   AddressPool: the scan window then ends at max(highest used, highest
 *   reserved) + 1, and under ADDRPOOL_GAP_ERROR only unused indices below
 *   the highest used one can be handed out (the wallet API,
 *   addrpool_wallets_account_new, needs 1 or more).
 * options: may be NULL (defaults).
 * out: receives the new pool; NULL after a failure. Free it with
 *   addrpool_pool_free.
 * Errors: NULL_ARGUMENT; INVALID_ARGUMENT (an enum out of range, gap_limit
 *   above ADDRPOOL_MAX_GAP_LIMIT, lookahead above ADDRPOOL_MAX_LOOKAHEAD,
 *   account_path not matching the key);
 *   key parsing errors (INVALID_ENCODING, BAD_CHECKSUM, UNKNOWN_VERSION,
 *   KEY_TYPE_MISMATCH, INVALID_PUBLIC_KEY, INVALID_PRIVATE_KEY,
 *   INVALID_KEY_METADATA); INVALID_PATH (account_path); NETWORK_MISMATCH;
 *   HARDENED_FROM_PUBLIC (ABSENT_HARDENED with a public key); DEPTH_EXCEEDED
 *   (the addresses would be deeper than 255); OUT_OF_MEMORY.
 * Thread safety: reentrant. Progress: blocking (allocation, a few EC
 * operations); derives no address yet. */
ADDRPOOL_API addrpool_status addrpool_pool_new(const char *account_key, const char *account_path,
                                               addrpool_network network, addrpool_pool_type type,
                                               uint32_t gap_limit, const addrpool_pool_options *options,
                                               addrpool_pool **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* A pool over the account at account_path below the BIP39 mnemonic's master
 * key, with default options. The pool's base path is account_path/0 for
 * EXTERNAL, account_path/1 for INTERNAL, account_path for the ABSENT types.
 * mnemonic: 12/15/18/21/24 BIP39 English words separated by spaces.
 * passphrase: may be NULL (same as ""). UTF-8, used byte for byte: BIP39
 *   asks for NFKD normalization, which is not done here, so pass an NFKD
 *   passphrase (ASCII already is) or the seed will differ from other wallets'.
 * account_path: e.g. "m/44'/1'/0'" (Dash testnet account 0), "m/44'/5'/0'".
 * network, type, gap_limit, out: as addrpool_pool_new.
 * Errors: NULL_ARGUMENT; INVALID_ARGUMENT (as addrpool_pool_new);
 *   INVALID_MNEMONIC (the message gives the 1-based position of a bad
 *   word, never the word);
 *   MNEMONIC_CHECKSUM; INVALID_PATH; DEPTH_EXCEEDED; INVALID_CHILD;
 *   OUT_OF_MEMORY. Nothing derived from the mnemonic outlives the call
 *   except the account key, which the pool wipes when freed.
 * Thread safety: reentrant. Progress: blocking (PBKDF2 with 2048 rounds,
 * milliseconds). */
ADDRPOOL_API addrpool_status addrpool_pool_new_from_mnemonic(const char *mnemonic, const char *passphrase,
                                                             const char *account_path, addrpool_network network,
                                                             addrpool_pool_type type, uint32_t gap_limit,
                                                             addrpool_pool **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_pool_new_from_mnemonic, with options (may be NULL). */
ADDRPOOL_API addrpool_status addrpool_pool_new_from_mnemonic_ex(const char *mnemonic, const char *passphrase,
                                                                const char *account_path,
                                                                addrpool_network network, addrpool_pool_type type,
                                                                uint32_t gap_limit,
                                                                const addrpool_pool_options *options,
                                                                addrpool_pool **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_pool_new_from_mnemonic_ex, from a raw BIP32 seed of seed_len
 * bytes (16..64; else INVALID_SEED). The library does not keep the seed. */
ADDRPOOL_API addrpool_status addrpool_pool_new_from_seed(const uint8_t *seed, size_t seed_len,
                                                         const char *account_path, addrpool_network network,
                                                         addrpool_pool_type type, uint32_t gap_limit,
                                                         const addrpool_pool_options *options,
                                                         addrpool_pool **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* A pool without key material, for hand-outs that bring their own key
 * source (addrpool_reserve_with, addrpool_next_unused_and_reserve);
 * addrpool_reserve on it hands out only addresses already derived, then
 * fails with NO_KEY_SOURCE.
 * base_path: the full path of the addresses' parent, e.g. "m/44'/1'/0'/0"
 *   for the receive chain of account m/44'/1'/0' (pool_base_path in C++:
 *   account/0 EXTERNAL, account/1 INTERNAL, the account itself for the ABSENT
 *   types), or the path relative to the account key ("m/0", "m/1", "m").
 *   Each hand-out checks its key source against it (see
 *   addrpool_reserve_with); addrpool_path_of reports base_path/index.
 * type, gap_limit, network, options (may be NULL), out: as addrpool_pool_new.
 * Errors: NULL_ARGUMENT; INVALID_ARGUMENT (an enum out of range, gap_limit
 *   or lookahead above its cap); INVALID_PATH (base_path); OUT_OF_MEMORY.
 * Thread safety: reentrant. Progress: blocking (allocation); derives
 * nothing. */
ADDRPOOL_API addrpool_status addrpool_pool_new_keyless(const char *base_path, addrpool_pool_type type,
                                                       uint32_t gap_limit, addrpool_network network,
                                                       const addrpool_pool_options *options,
                                                       addrpool_pool **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* Destroys the pool and wipes its key material. NULL is a no-op. No other
 * call on this pool may be running or start afterwards. Every outstanding
 * reservation is simply gone (reservations are never durable). */
ADDRPOOL_API void addrpool_pool_free(addrpool_pool *pool);

/* ---- key sources ------------------------------------------------------ */

/* A key source over an account xprv ("xprv..." mainnet, "tprv..." test
 * networks), e.g. of m/44'/1'/0'. Its network is the one the version bytes
 * name (MAINNET or TESTNET); a TESTNET source serves DEVNET and REGTEST pools
 * too. The private key is copied into the source and wiped when the last
 * handle to it (clones included) is freed.
 * out: receives the new key source; NULL after a failure. Free it with
 *   addrpool_key_source_free.
 * Errors: NULL_ARGUMENT; INVALID_ENCODING; BAD_CHECKSUM; UNKNOWN_VERSION;
 *   KEY_TYPE_MISMATCH (an xpub/tpub, or public data under a private
 *   version); INVALID_PRIVATE_KEY; INVALID_KEY_METADATA; OUT_OF_MEMORY.
 *   Messages never contain the key.
 * Thread safety: reentrant. Progress: blocking (a few EC operations, to
 * cache the account's two chain keys). */
ADDRPOOL_API addrpool_status addrpool_key_source_from_xprv(const char *account_xprv,
                                                           addrpool_key_source **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_key_source_from_xprv, over an account xpub ("xpub..." /
 * "tpub..."): watch-only, cannot derive ABSENT_HARDENED pools.
 * Errors: NULL_ARGUMENT; INVALID_ENCODING; BAD_CHECKSUM; UNKNOWN_VERSION;
 *   KEY_TYPE_MISMATCH (an xprv/tprv); INVALID_PUBLIC_KEY;
 *   INVALID_KEY_METADATA; OUT_OF_MEMORY. Reentrant; blocking. */
ADDRPOOL_API addrpool_status addrpool_key_source_from_xpub(const char *account_xpub,
                                                           addrpool_key_source **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* A key source over the account at account_path below the BIP39 mnemonic's
 * master key (private; it remembers account_path, so hand-outs check a pool's
 * full base path against it).
 * mnemonic: 12/15/18/21/24 BIP39 English words separated by spaces.
 * passphrase: may be NULL (same as ""); used byte for byte (see
 *   addrpool_pool_new_from_mnemonic on NFKD).
 * network: the network of the master key (MAINNET, or any test network).
 * account_path: e.g. "m/44'/1'/0'".
 * out: as addrpool_key_source_from_xprv.
 * Errors: NULL_ARGUMENT; INVALID_ARGUMENT (network out of range);
 *   INVALID_PATH; INVALID_MNEMONIC (the message gives the 1-based position
 *   of a bad word, never the word); MNEMONIC_CHECKSUM; INVALID_CHILD;
 *   OUT_OF_MEMORY. Checked in that order, so a bad path or mnemonic costs no
 *   PBKDF2. Nothing derived from the mnemonic outlives the call except the
 *   account key, wiped with the source.
 * Thread safety: reentrant. Progress: blocking (PBKDF2 with 2048 rounds,
 * milliseconds). */
ADDRPOOL_API addrpool_status addrpool_key_source_from_mnemonic(const char *mnemonic, const char *passphrase,
                                                               addrpool_network network, const char *account_path,
                                                               addrpool_key_source **out)
    ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_key_source_from_mnemonic, from a raw BIP32 seed of seed_len
 * bytes (16..64; else INVALID_SEED). The library does not keep the seed.
 * Errors: NULL_ARGUMENT; INVALID_ARGUMENT; INVALID_SEED; INVALID_PATH;
 *   INVALID_CHILD; OUT_OF_MEMORY. Reentrant; blocking. */
ADDRPOOL_API addrpool_status addrpool_key_source_from_seed(const uint8_t *seed, size_t seed_len,
                                                           addrpool_network network, const char *account_path,
                                                           addrpool_key_source **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* A key source that holds no key: a hand-out with it succeeds only where the
 * chosen index is already derived, else NO_KEY_SOURCE.
 * Errors: NULL_ARGUMENT; OUT_OF_MEMORY. Reentrant; blocking (allocation). */
ADDRPOOL_API addrpool_status addrpool_key_source_none(addrpool_key_source **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* A second handle to the same key material (shared, not copied; the key is
 * wiped when the last handle is freed). Free each handle on its own.
 * Errors: NULL_ARGUMENT; OUT_OF_MEMORY. Concurrent with everything but
 * addrpool_key_source_free of `source`; blocking (allocation). */
ADDRPOOL_API addrpool_status addrpool_key_source_clone(const addrpool_key_source *source,
                                                       addrpool_key_source **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* Destroys this handle (and wipes the key with the last one). NULL is a
 * no-op. No other call on this handle may be running or start afterwards. */
ADDRPOOL_API void addrpool_key_source_free(addrpool_key_source *source);

/* *kind = what the source holds (see addrpool_key_kind).
 * Errors: NULL_ARGUMENT. Concurrent; lock-free. */
ADDRPOOL_API addrpool_status addrpool_key_source_kind(const addrpool_key_source *source,
                                                      addrpool_key_kind *kind) ADDRPOOL_WARN_UNUSED_RESULT;

/* The network the key was made for: *known = true and *network set, or
 * *known = false and *network = MAINNET for a NONE source.
 * Errors: NULL_ARGUMENT. Concurrent; lock-free. */
ADDRPOOL_API addrpool_status addrpool_key_source_network(const addrpool_key_source *source,
                                                         addrpool_network *network,
                                                         bool *known) ADDRPOOL_WARN_UNUSED_RESULT;

/* The account key's public half ("xpub..." / "tpub..."), e.g. to hand a
 * watch-only copy to another service, into (buf, buf_len) with `required`
 * (may be NULL) as described at the top. Never the private key.
 * Errors: NULL_ARGUMENT; NO_KEY_SOURCE (a NONE source); BUFFER_TOO_SMALL;
 *   OUT_OF_MEMORY. Concurrent; lock-free apart from allocation. */
ADDRPOOL_API addrpool_status addrpool_key_source_account_xpub(const addrpool_key_source *source, char *buf,
                                                              size_t buf_len,
                                                              size_t *required) ADDRPOOL_WARN_UNUSED_RESULT;

/* The address at `index` of a pool of `type` below the source's account key,
 * for `network` in `format`, without a pool: e.g. to show or verify an
 * address (a pool's hand-out of that index gives the same one).
 * address: at least ADDRPOOL_ADDRESS_MAX bytes; receives the address.
 * Errors: NULL_ARGUMENT; BUFFER_TOO_SMALL; INVALID_ARGUMENT (an enum out of
 *   range); NETWORK_MISMATCH (the key is of the other network family);
 *   NO_KEY_SOURCE (a NONE source); HARDENED_FROM_PUBLIC; INDEX_OUT_OF_RANGE
 *   (index >= 2^31); INVALID_CHILD; OUT_OF_MEMORY.
 * Concurrent; lock-free apart from one small allocation (one public child
 * derivation; a private one for ABSENT_HARDENED). */
ADDRPOOL_API addrpool_status addrpool_key_source_derive_address(const addrpool_key_source *source,
                                                                addrpool_pool_type type, uint32_t index,
                                                                addrpool_network network,
                                                                addrpool_address_format format, char *address,
                                                                size_t address_len) ADDRPOOL_WARN_UNUSED_RESULT;

/* ---- hand-out --------------------------------------------------------- */

/* Reserves the lowest index that is neither used nor reserved, and reports
 * it. The address is materialized (addrpool_address_at, addrpool_mark_used
 * and the saved file know it); the reservation itself is not durable.
 * index, ticket: receive the index and the reservation's ticket (unique
 *   within the pool; pass it to addrpool_release).
 * address: may be NULL when address_len is 0 (the caller does not want the
 *   string); otherwise address_len must be at least ADDRPOOL_ADDRESS_MAX
 *   (else BUFFER_TOO_SMALL, checked before anything is reserved) and it
 *   receives the NUL-terminated address.
 * Errors: NULL_ARGUMENT; BUFFER_TOO_SMALL; GAP_LIMIT_REACHED (GAP_ERROR
 *   policy); NO_KEY_SOURCE (a loaded pool without key must derive);
 *   HARDENED_FROM_PUBLIC; INVALID_CHILD; INDEX_OUT_OF_RANGE (all 2^31
 *   indices taken); INVALID_ARGUMENT (a loaded pool given another account
 *   key than the one it was derived from); OUT_OF_MEMORY. On any error no
 *   reservation is held.
 * Thread safety: concurrent with everything. Progress: lock-free when the
 * index is already derived (the usual case, thanks to the lookahead): a
 * bounded scan and one CAS, plus encoding the address when asked for it
 * (a few small allocations: the string and OpenSSL's hash state);
 * otherwise the calling thread derives the index itself (blocking only on
 * a lookup-index shard mutex), and the one call that crosses the
 * refill mark (fewer than lookahead / 2 derived addresses left ahead) first
 * derives at most 32 addresses ahead, blocking like a derivation; the
 * others skip the refill. */
ADDRPOOL_API addrpool_status addrpool_reserve(addrpool_pool *pool, uint32_t *index, uint64_t *ticket,
                                              char *address, size_t address_len) ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_reserve, deriving (when the chosen index is not derived yet)
 * from `keys` instead of the pool's own key material: the hand-out of a pool
 * made by addrpool_pool_new_keyless, addrpool_deserialize or addrpool_load
 * without a key. `keys` is checked against the pool first (the checks of the
 * C++ KeySource::check_pool): its network family, and, for a full base path,
 * the account key's depth, child number and (mnemonic/seed sources) path.
 * add_to_state: true materializes the address (addrpool_address_at,
 *   addrpool_mark_used, addrpool_stats' generated and the saved file know
 *   it), as addrpool_reserve always does; false reserves without that.
 * The reservation's time (the pool clock's reading that addrpool_sweep
 * measures its age from) is not reported: it is only meaningful to the
 * sweep.
 * index, ticket, address, address_len: as addrpool_reserve. The ticket is
 *   an opaque value: compare and pass it back, never decode it.
 * Errors: NULL_ARGUMENT; BUFFER_TOO_SMALL; INVALID_ARGUMENT (`keys` does not
 *   fit the pool: another network family, depth, child number or account
 *   path; or another account key than the pool derived with before);
 *   HARDENED_FROM_PUBLIC (an ABSENT_HARDENED pool and a public source);
 *   DEPTH_EXCEEDED (the addresses would be deeper than 255);
 *   GAP_LIMIT_REACHED; NO_KEY_SOURCE (a NONE source and an index not
 *   derived yet); INVALID_CHILD; INDEX_OUT_OF_RANGE; OUT_OF_MEMORY. On any
 *   error no reservation is held.
 * Thread safety and progress: as addrpool_reserve, plus the check of `keys`
 * (lock-free; one small allocation for a mnemonic/seed source). */
ADDRPOOL_API addrpool_status addrpool_reserve_with(addrpool_pool *pool, const addrpool_key_source *keys,
                                                   bool add_to_state, uint32_t *index, uint64_t *ticket,
                                                   char *address, size_t address_len) ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_reserve_with for a caller that wants only the address (the
 * C++ and Rust next_unused_and_reserve): `address` is required, at least
 * ADDRPOOL_ADDRESS_MAX bytes. To return such a reservation later use
 * addrpool_release_index, or keep the index and ticket with
 * addrpool_reserve_with instead.
 * Errors: those of addrpool_reserve_with. Thread safety and progress: the
 * same. */
ADDRPOOL_API addrpool_status addrpool_next_unused_and_reserve(addrpool_pool *pool, const addrpool_key_source *keys,
                                                              bool add_to_state, char *address,
                                                              size_t address_len) ADDRPOOL_WARN_UNUSED_RESULT;

/* Returns a reservation: Reserved -> Unused, only if `index` is still
 * reserved by the hand-out that got `ticket`. *released = true only if it
 * changed something; false for a stale ticket (the index was released and
 * handed out again: the new holder keeps it), a used or unused index, or a
 * ticket that does not belong to index. Idempotent.
 * Errors: NULL_ARGUMENT; INDEX_OUT_OF_RANGE. Concurrent with everything;
 * lock-free. */
ADDRPOOL_API addrpool_status addrpool_release(addrpool_pool *pool, uint32_t index, uint64_t ticket,
                                              bool *released) ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_release, whoever holds the reservation (no ticket check). */
ADDRPOOL_API addrpool_status addrpool_release_index(addrpool_pool *pool, uint32_t index,
                                                    bool *released) ADDRPOOL_WARN_UNUSED_RESULT;

/* Frees every reservation at least ttl_ms milliseconds old (age read at the
 * pool's steady clock when the sweep starts); *freed = how many. ttl_ms = 0
 * frees every reservation taken before the sweep began. A reservation taken
 * while the sweep runs is never freed by it (for ttl_ms > 0). Values above
 * about 2^63 ns (292 years) are clamped there: "never expires".
 * Errors: NULL_ARGUMENT. Concurrent with everything; lock-free. */
ADDRPOOL_API addrpool_status addrpool_sweep(addrpool_pool *pool, uint64_t ttl_ms,
                                            size_t *freed) ADDRPOOL_WARN_UNUSED_RESULT;

/* ---- sync side -------------------------------------------------------- */

/* Marks the address as used (seen on chain): any state -> Used; Reserved ->
 * Used completes a hand-out (a later release reports false). *changed =
 * true only on a change; false for an address this pool does not know
 * (known = generated, reserved or used), e.g. a P2SH address. Either
 * encoding (Base58Check or DIP-18) is accepted whatever the pool's format.
 * Errors: NULL_ARGUMENT; INVALID_ENCODING, BAD_CHECKSUM, UNKNOWN_VERSION
 *   (not a Dash address); NETWORK_MISMATCH (an address of the other network
 *   family).
 * Concurrent with everything; blocking (a short lookup-index shard mutex). */
ADDRPOOL_API addrpool_status addrpool_mark_used(addrpool_pool *pool, const char *address,
                                                bool *changed) ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_mark_used, by index: *changed = false for an index the pool
 * has not derived (on a fresh or loaded pool, every index beyond the saved
 * ones), so it cannot replay a wallet database at start-up: use
 * addrpool_mark_index_used_with, which derives the index. Errors:
 * NULL_ARGUMENT, INDEX_OUT_OF_RANGE. Concurrent with everything; lock-free. */
ADDRPOOL_API addrpool_status addrpool_mark_index_used(addrpool_pool *pool, uint32_t index,
                                                      bool *changed) ADDRPOOL_WARN_UNUSED_RESULT;

/* ---- start-up and sync ------------------------------------------------ */

/* The C side of the C++ restart and sync calls (AddressPool::
 * mark_index_used(index, key_source), mark_scripts_used, restore_reservation,
 * PoolOptions::derive_threads). docs/api.md's "Start-up and sync" shows the
 * order: replay the used indices of the wallet database, restore the open
 * hand-outs, sync blocks, save.
 *
 * keys: in every function below, the key source to derive with when an index
 * is not derived yet; may be NULL: the pool's own key material (none for
 * pools made by addrpool_pool_new_keyless[_ex], addrpool_deserialize[_ex] and
 * addrpool_load[_ex] without a key). A non-NULL `keys` is checked against the
 * pool first, as by addrpool_reserve_with. */

/* Marks `index` used, deriving and materializing it first if the pool has
 * not (a cold start from a wallet database that keeps "used" itself).
 * *changed = true if the index became used by this call, false if it was
 * used already. Reserved -> Used completes a hand-out, as addrpool_mark_used.
 * Errors: NULL_ARGUMENT (pool, changed); INDEX_OUT_OF_RANGE; INVALID_ARGUMENT
 *   (`keys` does not fit the pool, or is another account's key than the pool
 *   derived with before); HARDENED_FROM_PUBLIC; DEPTH_EXCEEDED;
 *   NO_KEY_SOURCE (the index is not derived and the key source holds no
 *   key); INVALID_CHILD; OUT_OF_MEMORY. On error nothing changed.
 * Concurrent with everything. Progress: lock-free when the index is derived;
 * otherwise blocking like a derivation (one EC derivation, a lookup-index
 * shard mutex). */
ADDRPOOL_API addrpool_status addrpool_mark_index_used_with(addrpool_pool *pool, const addrpool_key_source *keys,
                                                           uint32_t index, bool *changed) ADDRPOOL_WARN_UNUSED_RESULT;

/* One match of addrpool_mark_scripts_used. Layout on x86-64 and aarch64
 * (checked by the C and Rust tests): size 16, align 8; position at 0, index
 * at 8, newly_used at 12. */
typedef struct {
    size_t position;  /* index into the scripts passed in */
    uint32_t index;   /* the pool index the script pays */
    bool newly_used;  /* false if the index was used already (or earlier in the batch) */
} addrpool_script_match;

/* Syncs one block: every script that is the P2PKH script of an index of this
 * pool inside the scan window (addrpool_scan_window_end) is marked used and
 * reported, in increasing position order. The scripts may come in any order
 * and mix ours with anything else (P2SH, other wallets, OP_RETURN, bytes of
 * no standard form: each costs one hash lookup). The window is derived and
 * materialized first, and again after each newly used index, so a payment
 * that falls in the widened window is found wherever it sits in the batch.
 * A script that appears twice is reported twice, newly_used only the first
 * time. count = 0 only derives and materializes the window (a start-up call
 * that makes the first lookups and hand-outs fast).
 * scripts, script_lens: `count` scripts, scripts[k] of script_lens[k] bytes
 *   (scripts[k] may be NULL when script_lens[k] is 0); both may be NULL when
 *   count is 0. Read during the call only.
 * matches, matches_len: a caller array of at least `count` entries (a script
 *   matches at most once, so `count` always suffices; else BUFFER_TOO_SMALL,
 *   checked before anything is marked); may be NULL when count is 0. Written
 *   only on success: entries [0, *match_count).
 * match_count: receives the number of matches (0 after a failure).
 * Errors: NULL_ARGUMENT; BUFFER_TOO_SMALL; INVALID_ARGUMENT (`keys` does not
 *   fit the pool, or another account's key); HARDENED_FROM_PUBLIC;
 *   DEPTH_EXCEEDED; NO_KEY_SOURCE (the window needs deriving and the key
 *   source holds no key); INVALID_CHILD; OUT_OF_MEMORY. An exception to the
 *   rule that a failed call changes nothing: when deriving the window fails
 *   after some scripts were marked, those marks stay (each is a fact about
 *   the chain) and are not reported; the same block with a key that can
 *   derive reports them (newly_used false). Nothing is marked when the first
 *   derivation of the window fails.
 * Concurrent with everything (two threads may sync blocks at once).
 * Progress: blocking (lookup-index shard mutexes; derivations, on several
 * threads when many are due: see derive_threads). */
ADDRPOOL_API addrpool_status addrpool_mark_scripts_used(addrpool_pool *pool, const addrpool_key_source *keys,
                                                        const uint8_t *const *scripts, const size_t *script_lens,
                                                        size_t count, addrpool_script_match *matches,
                                                        size_t matches_len,
                                                        size_t *match_count) ADDRPOOL_WARN_UNUSED_RESULT;

/* Restores a hand-out made before a restart (a payment server's open
 * invoice): reserves exactly `index`, deriving and materializing it if
 * needed, as if it had been handed out age_ms milliseconds ago (a later
 * addrpool_sweep with ttl_ms <= age_ms frees it), with a fresh ticket: a
 * ticket from before the restart releases nothing. The reservation counts in
 * the gap window like any other; hand-outs skip the index. Ages up to about
 * 8.7 years (2^38 ms) plus the pool's own age are kept exactly; an older one
 * counts as that.
 * ticket: receives the reservation's ticket (pass it to addrpool_release).
 * address, address_len: as addrpool_reserve (may be NULL with length 0).
 * Errors: NULL_ARGUMENT; BUFFER_TOO_SMALL (checked before anything is
 *   reserved); INDEX_OUT_OF_RANGE; INDEX_UNAVAILABLE (the index is used or
 *   already reserved: the message says which); INVALID_ARGUMENT (`keys` does
 *   not fit the pool, or another account's key); HARDENED_FROM_PUBLIC;
 *   DEPTH_EXCEEDED; NO_KEY_SOURCE; INVALID_CHILD; OUT_OF_MEMORY. On any
 *   error no reservation is held.
 * Concurrent with everything: of concurrent restores of one index exactly
 * one succeeds. Progress: lock-free when the index is derived (one clock
 * read, one CAS, plus the address's encoding, as in addrpool_reserve);
 * otherwise blocking like a derivation. */
ADDRPOOL_API addrpool_status addrpool_restore_reservation(addrpool_pool *pool, const addrpool_key_source *keys,
                                                          uint32_t index, uint64_t age_ms, uint64_t *ticket,
                                                          char *address, size_t address_len) ADDRPOOL_WARN_UNUSED_RESULT;

/* The most threads addrpool_pool_options_ex.derive_threads may name. */
#define ADDRPOOL_MAX_DERIVE_THREADS 256

/* Pool settings beyond addrpool_pool_options, for addrpool_pool_new_keyless_ex,
 * addrpool_load_ex, addrpool_deserialize_ex and
 * addrpool_wallets_account_new_ex. Fill with addrpool_pool_options_ex_init
 * first, then change what you need.
 *
 * Why a second struct rather than a field at the end of addrpool_pool_options:
 * programs built against this ABI allocate 12 bytes for that struct and pass
 * its address; a library that read a fourth field would read past their
 * object, so the ABI policy (docs/api.md) lets a struct's layout change only
 * with a new soversion. This struct starts with its own size instead: fields
 * are only ever added at its end, and the library reads only the fields that
 * `size` covers and refuses a size it does not know (this library knows one:
 * 20), so later settings need neither a new struct nor new functions. Layout: size 20, align 4; fields at 0, 4, 8, 12, 16. */
typedef struct {
    uint32_t size;                  /* sizeof(addrpool_pool_options_ex), set by the init function; a
                                       size this library does not know gives INVALID_ARGUMENT */
    uint32_t lookahead;             /* as addrpool_pool_options */
    addrpool_gap_policy gap_policy; /* as addrpool_pool_options */
    addrpool_address_format format; /* as addrpool_pool_options; for a loaded pool the file's wins */
    uint32_t derive_threads;        /* threads that derive large counts (a window or block sync of
                                       more than 256 addresses); 0 = the hardware's thread count;
                                       at most ADDRPOOL_MAX_DERIVE_THREADS; default 0 */
} addrpool_pool_options_ex;

/* Sets *options to the defaults (size = sizeof *options, the defaults of
 * addrpool_pool_options_init, derive_threads 0). Errors: NULL_ARGUMENT.
 * Reentrant, lock-free. */
ADDRPOOL_API addrpool_status addrpool_pool_options_ex_init(addrpool_pool_options_ex *options)
    ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_pool_new_keyless, with options_ex (may be NULL: the defaults).
 * Errors: those of addrpool_pool_new_keyless; INVALID_ARGUMENT also for an
 * unknown options->size and derive_threads above ADDRPOOL_MAX_DERIVE_THREADS.
 * Reentrant; blocking (allocation); derives nothing. */
ADDRPOOL_API addrpool_status addrpool_pool_new_keyless_ex(const char *base_path, addrpool_pool_type type,
                                                          uint32_t gap_limit, addrpool_network network,
                                                          const addrpool_pool_options_ex *options,
                                                          addrpool_pool **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_load, with options (may be NULL: the defaults; the file's
 * address format wins over options->format). Errors: those of
 * addrpool_load; INVALID_ARGUMENT also for bad options (as
 * addrpool_pool_new_keyless_ex). Reentrant; blocking. */
ADDRPOOL_API addrpool_status addrpool_load_ex(const char *path, const char *account_key,
                                              const addrpool_pool_options_ex *options,
                                              addrpool_pool **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_deserialize, with options (as addrpool_load_ex). Errors: those
 * of addrpool_deserialize; INVALID_ARGUMENT also for bad options.
 * Reentrant; blocking. */
ADDRPOOL_API addrpool_status addrpool_deserialize_ex(const uint8_t *bytes, size_t len,
                                                     const addrpool_pool_options_ex *options,
                                                     addrpool_pool **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* ---- queries ---------------------------------------------------------- */

/* Counters and high-water marks (see addrpool_pool_stats).
 * Errors: NULL_ARGUMENT; OUT_OF_MEMORY. Concurrent with everything;
 * lock-free; O(indices touched); exact while no writer runs. */
ADDRPOOL_API addrpool_status addrpool_stats(const addrpool_pool *pool,
                                            addrpool_pool_stats *out) ADDRPOOL_WARN_UNUSED_RESULT;

/* *end = max(highest used, highest reserved) + 1 + gap_limit, or gap_limit
 * when neither exists (exclusive; saturates at 2^31): the indices a wallet
 * should watch on chain. Errors: NULL_ARGUMENT. Concurrent; lock-free. */
ADDRPOOL_API addrpool_status addrpool_scan_window_end(const addrpool_pool *pool,
                                                      uint32_t *end) ADDRPOOL_WARN_UNUSED_RESULT;

/* *state = the state of any index (UNUSED for indices never seen).
 * Errors: NULL_ARGUMENT; INDEX_OUT_OF_RANGE. Concurrent; lock-free. */
ADDRPOOL_API addrpool_status addrpool_state(const addrpool_pool *pool, uint32_t index,
                                            addrpool_address_state *state) ADDRPOOL_WARN_UNUSED_RESULT;

/* The address at a generated index, in the pool's format, into
 * (buf, buf_len) with `required` (may be NULL) as described at the top.
 * Errors: NULL_ARGUMENT; INDEX_OUT_OF_RANGE; INVALID_ARGUMENT (the index is
 *   not generated); BUFFER_TOO_SMALL; OUT_OF_MEMORY.
 * Concurrent; lock-free apart from one small allocation. */
ADDRPOOL_API addrpool_status addrpool_address_at(const addrpool_pool *pool, uint32_t index, char *buf,
                                                 size_t buf_len, size_t *required) ADDRPOOL_WARN_UNUSED_RESULT;

/* The generated index holding this address: *found = true and *index set,
 * or *found = false (*index = 0) when the pool has not generated it.
 * Errors: NULL_ARGUMENT; address parsing errors as addrpool_mark_used.
 * Concurrent; blocking (short shard mutex). */
ADDRPOOL_API addrpool_status addrpool_index_of(const addrpool_pool *pool, const char *address, uint32_t *index,
                                               bool *found) ADDRPOOL_WARN_UNUSED_RESULT;

/* The full derivation path of an index ("m/44'/1'/0'/0/7"; relative to the
 * account key, "m/0/7", for a pool made by addrpool_pool_new_from_key),
 * into (buf, buf_len) with `required` (may be NULL) as described at the top.
 * Errors: NULL_ARGUMENT; INDEX_OUT_OF_RANGE; BUFFER_TOO_SMALL;
 * OUT_OF_MEMORY. Concurrent; lock-free apart from allocation. */
ADDRPOOL_API addrpool_status addrpool_path_of(const addrpool_pool *pool, uint32_t index, char *buf,
                                              size_t buf_len, size_t *required) ADDRPOOL_WARN_UNUSED_RESULT;

/* The pool's settings; each output may be NULL (not wanted).
 * Errors: NULL_ARGUMENT (pool). Concurrent; lock-free. */
ADDRPOOL_API addrpool_status addrpool_pool_describe(const addrpool_pool *pool, addrpool_network *network,
                                                    addrpool_pool_type *type, uint32_t *gap_limit,
                                                    addrpool_address_format *format) ADDRPOOL_WARN_UNUSED_RESULT;

/* The pool's base path ("m/44'/1'/0'/0", or relative such as "m/0"), into
 * (buf, buf_len) with `required` (may be NULL) as described at the top.
 * Errors: NULL_ARGUMENT; BUFFER_TOO_SMALL; OUT_OF_MEMORY. Concurrent;
 * lock-free apart from allocation. */
ADDRPOOL_API addrpool_status addrpool_base_path(const addrpool_pool *pool, char *buf, size_t buf_len,
                                                size_t *required) ADDRPOOL_WARN_UNUSED_RESULT;

/* ---- addresses -------------------------------------------------------- */

/* Checks that `text` is a Dash address of `network`'s encoding family (P2PKH
 * or P2SH, Base58Check or DIP-18 bech32m) and writes its canonical text
 * (today always equal to a valid input: both encodings have one spelling)
 * into `canonical`.
 * canonical: may be NULL when canonical_len is 0 (validation only);
 *   otherwise at least ADDRPOOL_ADDRESS_MAX bytes (else BUFFER_TOO_SMALL,
 *   checked first).
 * Errors: NULL_ARGUMENT; BUFFER_TOO_SMALL; INVALID_ARGUMENT (network out of
 *   range); INVALID_ENCODING; BAD_CHECKSUM; UNKNOWN_VERSION;
 *   NETWORK_MISMATCH; OUT_OF_MEMORY. Reentrant; lock-free apart from one
 *   small allocation. */
ADDRPOOL_API addrpool_status addrpool_address_parse(const char *text, addrpool_network network, char *canonical,
                                                    size_t canonical_len) ADDRPOOL_WARN_UNUSED_RESULT;

/* ---- persistence ------------------------------------------------------ */

/* Writes the pool's durable state (network, base path, type, gap limit,
 * format, every generated address with its used flag and label) to `path`,
 * crash-safely (temporary file `<path>.tmp-<pid>-<16 hex>`, fsync, rename,
 * directory fsync); on error `path` keeps the previous save, whole, except
 * after a "saved, but ... directory" error (then it holds this save). A
 * successful save also removes the temporary files of earlier saves of
 * `path` whose writer died mid-write (see AddressPool::save in pool.hpp).
 * Never writes keys, reservations or tickets: reservations are not durable.
 * Errors: NULL_ARGUMENT; IO_ERROR (the message carries the system's reason);
 * OUT_OF_MEMORY. Concurrent with everything (the file holds every used mark
 * that completed before the call); blocking (file I/O). */
ADDRPOOL_API addrpool_status addrpool_save(const addrpool_pool *pool, const char *path) ADDRPOOL_WARN_UNUSED_RESULT;

/* Reads a pool saved by addrpool_save. Every loaded index that was not used
 * is unused.
 * account_key: may be NULL. The pool's account key (xprv/xpub/tprv/tpub),
 *   needed to derive beyond the saved addresses; without it the pool hands
 *   out only addresses already in the file, then fails with NO_KEY_SOURCE.
 *   A key of another account is detected when the pool first derives
 *   (INVALID_ARGUMENT from addrpool_reserve).
 * out: receives the new pool (NULL after a failure).
 * Errors: NULL_ARGUMENT; IO_ERROR; TRUNCATED; BAD_MAGIC; UNSUPPORTED_FORMAT;
 *   CORRUPT_DATA; INCONSISTENT_DATA; key errors as addrpool_pool_new,
 *   including NETWORK_MISMATCH (key and file of different network families)
 *   and HARDENED_FROM_PUBLIC; DEPTH_EXCEEDED; INVALID_ARGUMENT (the file's
 *   gap limit is above ADDRPOOL_MAX_GAP_LIMIT, the most this API creates
 *   pools with); OUT_OF_MEMORY.
 * Thread safety: reentrant (creates a new pool). Progress: blocking. */
ADDRPOOL_API addrpool_status addrpool_load(const char *path, const char *account_key,
                                           addrpool_pool **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* The pool's durable state, exactly the bytes addrpool_save writes (same
 * format, same content), into a buffer the library allocates: one snapshot,
 * taken once. Free *bytes with addrpool_bytes_free (not free()).
 * bytes, len: receive the buffer and its length; NULL and 0 after a failure.
 * Errors: NULL_ARGUMENT; OUT_OF_MEMORY. Concurrent with everything (holds
 * every used mark that completed before the call); blocking (allocation). */
ADDRPOOL_API addrpool_status addrpool_serialize(const addrpool_pool *pool, uint8_t **bytes,
                                                size_t *len) ADDRPOOL_WARN_UNUSED_RESULT;

/* Frees a buffer from addrpool_serialize. NULL is a no-op. */
ADDRPOOL_API void addrpool_bytes_free(uint8_t *bytes);

/* A pool from bytes made by addrpool_serialize (or a file's content), with
 * no key material of its own: hand out with addrpool_reserve_with /
 * addrpool_next_unused_and_reserve (or addrpool_reserve, which then hands out
 * only addresses already in the bytes). Every loaded index that was not used
 * is unused.
 * bytes: may be NULL when len is 0 (then TRUNCATED).
 * out: receives the new pool (NULL after a failure).
 * Errors: NULL_ARGUMENT; TRUNCATED; BAD_MAGIC; UNSUPPORTED_FORMAT;
 *   CORRUPT_DATA; INCONSISTENT_DATA; INVALID_ARGUMENT (gap limit above
 *   ADDRPOOL_MAX_GAP_LIMIT); OUT_OF_MEMORY.
 * Thread safety: reentrant (creates a new pool). Progress: blocking. */
ADDRPOOL_API addrpool_status addrpool_deserialize(const uint8_t *bytes, size_t len,
                                                  addrpool_pool **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* ==== Wallet sets: every account of a service in one set ================
 *
 * The C face of <addrpool/wallet.hpp> (WalletSet and Account; the C++ header
 * has the long form of every rule below). An account is a BIP44-style pair
 * of pools over one key source: a receive (EXTERNAL, account/0/i) and a
 * change (INTERNAL, account/1/i) chain. A set registers accounts under
 * (wallet, account number) and has one script index for all their pools:
 * addrpool_wallets_mark_scripts_used matches a whole block with one lookup
 * per output whatever the number of accounts.
 *
 * Handles. An addrpool_wallets (a set) is made by addrpool_wallets_new or
 * addrpool_wallets_load and freed by addrpool_wallets_free. An
 * addrpool_wallets_account is a shared handle to one account: made by
 * addrpool_wallets_account_new(_ex) or returned by addrpool_wallets_find (a new
 * handle to the registered account each time); free every handle once with
 * addrpool_wallets_account_free. An account lives while a handle or a set
 * holds it: a handle stays valid after the account is removed from its set
 * or the set is freed.
 *
 * Threads. Every function may run concurrently with every other on the same
 * set or account, except the *_free functions (no call on that handle may
 * run or start afterwards). addrpool_wallets_find and the hand-outs never
 * wait for addrpool_wallets_add / addrpool_wallets_remove (lock-free).
 *
 * Wallet names are NUL-terminated strings (a name with an embedded NUL, made
 * through C++, reaches C cut at the NUL). Chains are ADDRPOOL_EXTERNAL or
 * ADDRPOOL_INTERNAL; another addrpool_pool_type gives INVALID_ARGUMENT. */

/* Bytes a script buffer of addrpool_wallets_address_script needs: the
 * longest standard output script it writes (P2PKH, 25 bytes). */
#define ADDRPOOL_SCRIPT_MAX 25

/* A set of accounts. Opaque. */
typedef struct addrpool_wallets addrpool_wallets;

/* A handle to an account (shared: see above). Opaque. */
typedef struct addrpool_wallets_account addrpool_wallets_account;

/* One match of addrpool_wallets_mark_scripts_used. `wallet` points into the
 * array's own storage (valid until addrpool_wallets_matches_free). */
typedef struct {
    size_t position;           /* index into the scripts passed in */
    const char *wallet;        /* the wallet the account is registered under */
    uint32_t account;          /* its account number */
    addrpool_pool_type chain;  /* ADDRPOOL_EXTERNAL or ADDRPOOL_INTERNAL */
    uint32_t index;            /* the index the script pays */
    bool newly_used;           /* false if it was used already */
} addrpool_wallets_match;

/* The key source of an account being loaded (addrpool_wallets_load):
 * return a key source (the library takes its own reference during the call:
 * the caller keeps ownership and may free it afterwards), or NULL for a
 * watch-only account that hands out and matches only what its files hold.
 * `wallet` is valid during the call. Called on the thread of
 * addrpool_wallets_load, once per account. */
typedef const addrpool_key_source *(*addrpool_wallets_keys_fn)(void *context, const char *wallet,
                                                               uint32_t account);

/* A new, empty set. out: receives it (NULL after a failure).
 * Errors: NULL_ARGUMENT; OUT_OF_MEMORY. Reentrant; blocking (allocation). */
ADDRPOOL_API addrpool_status addrpool_wallets_new(addrpool_wallets **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* Frees the set; accounts that other handles hold live on (their pools keep
 * answering their own lookups). NULL is a no-op. */
ADDRPOOL_API void addrpool_wallets_free(addrpool_wallets *set);

/* A new account over `keys` (copied: the caller keeps its handle) at the
 * account's full path, e.g. "m/44'/1'/0'": its pools' base paths are
 * account_path/0 and account_path/1. Derives nothing.
 * keys: any key source, ADDRPOOL_KEY_NONE included (hands out only what is
 *   derived already, which is nothing for a new account).
 * gap_limit: 1..ADDRPOOL_MAX_GAP_LIMIT, for both chains.
 * options: may be NULL (defaults); applies to both pools.
 * out: receives the handle (NULL after a failure).
 * Errors: NULL_ARGUMENT; INVALID_PATH (account_path); INVALID_ARGUMENT (an
 *   enum out of range, gap_limit 0 or above ADDRPOOL_MAX_GAP_LIMIT, lookahead
 *   above its cap, a path or network that contradicts the key, addresses
 *   deeper than 255); OUT_OF_MEMORY.
 * Reentrant; blocking (allocation). */
ADDRPOOL_API addrpool_status addrpool_wallets_account_new(const addrpool_key_source *keys, const char *account_path,
                                                          addrpool_network network, uint32_t gap_limit,
                                                          const addrpool_pool_options *options,
                                                          addrpool_wallets_account **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* As addrpool_wallets_account_new, with addrpool_pool_options_ex (may be
 * NULL: the defaults) for both pools: e.g. derive_threads, the threads that
 * derive the account's scan windows and block-sync ranges.
 * Errors: those of addrpool_wallets_account_new; INVALID_ARGUMENT also for
 * an unknown options->size and derive_threads above
 * ADDRPOOL_MAX_DERIVE_THREADS.
 * Reentrant; blocking (allocation); derives nothing. */
ADDRPOOL_API addrpool_status addrpool_wallets_account_new_ex(const addrpool_key_source *keys,
                                                             const char *account_path, addrpool_network network,
                                                             uint32_t gap_limit,
                                                             const addrpool_pool_options_ex *options,
                                                             addrpool_wallets_account **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* Frees this handle (the account lives on while a set or another handle
 * holds it). NULL is a no-op. */
ADDRPOOL_API void addrpool_wallets_account_free(addrpool_wallets_account *account);

/* Registers the account under (wallet, account_number). *added = false if
 * that key is taken, or the account is already registered in this set, or it
 * belongs to another set (an account joins one set in its life; it may be
 * removed and added again). The set takes its own reference: the caller
 * keeps and frees its handle. The first add attaches the account's pools to
 * the set's script index; it derives nothing (the account's scan windows
 * are derived before the next addrpool_wallets_mark_scripts_used).
 * Errors: NULL_ARGUMENT; OUT_OF_MEMORY (nothing changed).
 * Blocking (registry writers take one mutex); never blocks finds or
 * hand-outs. */
ADDRPOOL_API addrpool_status addrpool_wallets_add(addrpool_wallets *set, const char *wallet, uint32_t account_number,
                                                  const addrpool_wallets_account *account,
                                                  bool *added) ADDRPOOL_WARN_UNUSED_RESULT;

/* Unregisters (wallet, account_number); *removed = false if absent. Handles
 * to the account stay valid (and may go on handing out); the set no longer
 * matches its scripts. Errors: NULL_ARGUMENT. Blocking like add; never
 * blocks finds or hand-outs. */
ADDRPOOL_API addrpool_status addrpool_wallets_remove(addrpool_wallets *set, const char *wallet,
                                                     uint32_t account_number,
                                                     bool *removed) ADDRPOOL_WARN_UNUSED_RESULT;

/* A new handle to the account registered under (wallet, account_number), or
 * *out = NULL (and ADDRPOOL_OK) when none is. Free a returned handle with
 * addrpool_wallets_account_free.
 * Errors: NULL_ARGUMENT; OUT_OF_MEMORY. Lock-free apart from allocating the
 * handle: never waits for add/remove or another reader. */
ADDRPOOL_API addrpool_status addrpool_wallets_find(const addrpool_wallets *set, const char *wallet,
                                                   uint32_t account_number,
                                                   addrpool_wallets_account **out) ADDRPOOL_WARN_UNUSED_RESULT;

/* *size = how many accounts are registered. Errors: NULL_ARGUMENT.
 * Lock-free. */
ADDRPOOL_API addrpool_status addrpool_wallets_size(const addrpool_wallets *set,
                                                   size_t *size) ADDRPOOL_WARN_UNUSED_RESULT;

/* The account's settings; each output may be NULL (not wanted): its
 * network, gap limit (both chains) and address format.
 * Errors: NULL_ARGUMENT (account). Lock-free. */
ADDRPOOL_API addrpool_status addrpool_wallets_account_describe(const addrpool_wallets_account *account,
                                                               addrpool_network *network, uint32_t *gap_limit,
                                                               addrpool_address_format *format)
    ADDRPOOL_WARN_UNUSED_RESULT;

/* Hands out the lowest free index of the account's `chain` (the C++
 * next_receive_address / next_change_address): index, ticket and address
 * as addrpool_reserve (address may be NULL with address_len 0).
 * Errors: NULL_ARGUMENT; INVALID_ARGUMENT (chain); BUFFER_TOO_SMALL; and
 *   those of addrpool_reserve_with (NO_KEY_SOURCE, GAP_LIMIT_REACHED,
 *   INVALID_CHILD, INDEX_OUT_OF_RANGE, INVALID_ARGUMENT for a loaded account
 *   given another account's key); OUT_OF_MEMORY. On any error no
 *   reservation is held.
 * Progress: as addrpool_reserve (lock-free when the index is derived). */
ADDRPOOL_API addrpool_status addrpool_wallets_account_reserve(addrpool_wallets_account *account,
                                                              addrpool_pool_type chain, uint32_t *index,
                                                              uint64_t *ticket, char *address,
                                                              size_t address_len) ADDRPOOL_WARN_UNUSED_RESULT;

/* Returns a hand-out of `chain`, as addrpool_release (only if `index` is
 * still reserved by the hand-out that got `ticket`).
 * Errors: NULL_ARGUMENT; INVALID_ARGUMENT (chain); INDEX_OUT_OF_RANGE.
 * Lock-free. */
ADDRPOOL_API addrpool_status addrpool_wallets_account_release(addrpool_wallets_account *account,
                                                              addrpool_pool_type chain, uint32_t index,
                                                              uint64_t ticket,
                                                              bool *released) ADDRPOOL_WARN_UNUSED_RESULT;

/* The counters of `chain` (see addrpool_stats). Errors: NULL_ARGUMENT;
 * INVALID_ARGUMENT (chain). Lock-free. */
ADDRPOOL_API addrpool_status addrpool_wallets_account_stats(const addrpool_wallets_account *account,
                                                            addrpool_pool_type chain,
                                                            addrpool_pool_stats *out) ADDRPOOL_WARN_UNUSED_RESULT;

/* The scan window end of `chain` (see addrpool_scan_window_end).
 * Errors: NULL_ARGUMENT; INVALID_ARGUMENT (chain). Lock-free. */
ADDRPOOL_API addrpool_status addrpool_wallets_account_scan_window_end(const addrpool_wallets_account *account,
                                                                      addrpool_pool_type chain,
                                                                      uint32_t *end) ADDRPOOL_WARN_UNUSED_RESULT;

/* The state of an index of `chain` (see addrpool_state). Errors:
 * NULL_ARGUMENT; INVALID_ARGUMENT (chain); INDEX_OUT_OF_RANGE. Lock-free. */
ADDRPOOL_API addrpool_status addrpool_wallets_account_state(const addrpool_wallets_account *account,
                                                            addrpool_pool_type chain, uint32_t index,
                                                            addrpool_address_state *state) ADDRPOOL_WARN_UNUSED_RESULT;

/* One block: every script that pays any address of any account in the set
 * (a P2PKH script of an index inside its pool's scan window) is marked used
 * and reported, in increasing position order; windows widen across the
 * whole batch and every account (see WalletSet::mark_scripts_used).
 * scripts, script_lens: `count` scripts (each scripts[i] may be NULL when
 *   script_lens[i] is 0); both may be NULL when count is 0.
 * matches, match_count: receive the matches in one buffer the library
 *   allocates (free it with addrpool_wallets_matches_free; NULL and 0 when
 *   nothing matched, and after a failure).
 * Errors: NULL_ARGUMENT; INVALID_ARGUMENT (an account given another
 *   account's key; the message names the wallet and account: nothing is
 *   marked when the windows fail before the matching); INVALID_CHILD;
 *   OUT_OF_MEMORY.
 * Thread-safe; blocking (derivation, index shard mutexes when deriving). */
ADDRPOOL_API addrpool_status addrpool_wallets_mark_scripts_used(addrpool_wallets *set, const uint8_t *const *scripts,
                                                                const size_t *script_lens, size_t count,
                                                                addrpool_wallets_match **matches,
                                                                size_t *match_count) ADDRPOOL_WARN_UNUSED_RESULT;

/* The output script (scriptPubKey) that pays `address`: P2PKH (25 bytes)
 * or P2SH (23), e.g. to build the outputs of a block in a test or a
 * simulation. Either encoding of either network family is accepted.
 * script: not NULL, at least ADDRPOOL_SCRIPT_MAX bytes (else
 *   BUFFER_TOO_SMALL, checked after the NULL checks and before the address
 *   is parsed); len: receives the script's length (0 after a failure).
 * Errors: NULL_ARGUMENT; BUFFER_TOO_SMALL; INVALID_ENCODING; BAD_CHECKSUM;
 *   UNKNOWN_VERSION; OUT_OF_MEMORY. Reentrant; lock-free apart from
 *   allocation. */
ADDRPOOL_API addrpool_status addrpool_wallets_address_script(const char *address, uint8_t *script, size_t script_len,
                                                             size_t *len) ADDRPOOL_WARN_UNUSED_RESULT;

/* Frees a buffer from addrpool_wallets_mark_scripts_used. NULL is a no-op. */
ADDRPOOL_API void addrpool_wallets_matches_free(addrpool_wallets_match *matches);

/* addrpool_sweep on every pool of every registered account; *freed = how
 * many reservations it freed (ttl_ms as addrpool_sweep).
 * Errors: NULL_ARGUMENT. Lock-free. */
ADDRPOOL_API addrpool_status addrpool_wallets_sweep(addrpool_wallets *set, uint64_t ttl_ms,
                                                    size_t *freed) ADDRPOOL_WARN_UNUSED_RESULT;

/* Crash-safe, incremental save into the directory `dir` (created if
 * missing): *written = how many pool files it wrote — only the pools changed
 * since this set's previous save to `dir` (every pool the first time) —
 * then a manifest is renamed into place last, so a crash leaves the old or
 * the new set, whole (see WalletSet::save). Keys and reservations are never
 * written. written: may be NULL.
 * Errors: NULL_ARGUMENT; IO_ERROR (the directory still holds the previous
 * save); OUT_OF_MEMORY. Concurrent saves of one set are serialized; saves of
 * different sets to one directory are not supported. Blocking. */
ADDRPOOL_API addrpool_status addrpool_wallets_save(addrpool_wallets *set, const char *dir,
                                                   size_t *written) ADDRPOOL_WARN_UNUSED_RESULT;

/* The set saved in `dir`. keys: called once per account for its key source
 * (see addrpool_wallets_keys_fn), with `context`. options: may be NULL;
 * applies to every pool (the files' address formats win).
 * out: receives the set (NULL after a failure).
 * Errors: NULL_ARGUMENT; IO_ERROR (missing manifest or pool file);
 *   BAD_MAGIC; UNSUPPORTED_FORMAT; TRUNCATED; CORRUPT_DATA;
 *   INCONSISTENT_DATA; INVALID_ARGUMENT (options out of range, or a key
 *   source that does not fit its account: the message names it);
 *   OUT_OF_MEMORY. Reentrant; blocking. */
ADDRPOOL_API addrpool_status addrpool_wallets_load(const char *dir, addrpool_wallets_keys_fn keys, void *context,
                                                   const addrpool_pool_options *options,
                                                   addrpool_wallets **out) ADDRPOOL_WARN_UNUSED_RESULT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ADDRPOOL_ADDRPOOL_H */
