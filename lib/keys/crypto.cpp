// Hashing, HMAC and PBKDF2 over OpenSSL, the secp256k1 context, and the
// public hash160 of keys.hpp.
#include "keys/crypto.hpp"

#include <addrpool/keys.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <secp256k1.h>

#include <cstdio>
#include <cstdlib>

namespace addrpool::detail {
namespace {

// A failure of these OpenSSL calls means a broken installation (e.g. no
// default provider), not bad input: there is nothing a caller could do.
[[noreturn]] void crypto_abort(const char* what) noexcept {
    std::fprintf(stderr, "addrpool: OpenSSL failure in %s\n", what);
    std::abort();
}

// EVP_Digest makes and frees a context, and the provider's state inside it,
// on every call: most of the cost of hashing an address's 21 bytes for its
// checksum. So each thread keeps one context per algorithm (per N: sha256
// and ripemd160 alone come here) and initializes it again. What a context
// holds between calls is the last digest it returned: OpenSSL's final wipes
// the buffered input block, and a new init or the thread's exit frees and
// wipes the provider's state. Digests of secrets (the BIP39 checksum, an
// extended private key's Base58Check checksum) are not secrets.
//
// Null once the thread's destructors have run (a caller's thread_local or
// static destructor that hashes still gets a digest, from EVP_Digest), or
// if the context could not be made. The pointer and flag are trivially
// destructible, so they stay readable while destructors run.
template <std::size_t N>
EVP_MD_CTX* thread_context() noexcept {
    thread_local EVP_MD_CTX* ctx = nullptr;
    thread_local bool finished = false;
    if (ctx == nullptr && !finished) {
        ctx = EVP_MD_CTX_new();
        struct Owner {
            ~Owner() {
                EVP_MD_CTX_free(ctx);
                ctx = nullptr;
                finished = true;
            }
        };
        thread_local const Owner owner;  // constructed on the first call: frees the context at thread exit
    }
    return ctx;
}

template <std::size_t N>
std::array<std::uint8_t, N> digest(const EVP_MD* md, std::span<const std::uint8_t> data, const char* what) noexcept {
    std::array<std::uint8_t, N> out{};
    unsigned int len = 0;
    EVP_MD_CTX* const c = thread_context<N>();
    const bool ok = md != nullptr && (c != nullptr ? EVP_DigestInit_ex2(c, md, nullptr) == 1 &&
                                                         EVP_DigestUpdate(c, data.data(), data.size()) == 1 &&
                                                         EVP_DigestFinal_ex(c, out.data(), &len) == 1
                                                   : EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) == 1);
    if (!ok || len != N) crypto_abort(what);
    return out;
}

// Fetched once: EVP_MD_fetch is slow and takes a lock; the fetched object is
// immutable and safe to share between threads.
const EVP_MD* md_sha256() noexcept {
    static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
}
const EVP_MD* md_sha512() noexcept {
    static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA512", nullptr);
    return md;
}
const EVP_MD* md_ripemd160() noexcept {
    static const EVP_MD* md = EVP_MD_fetch(nullptr, "RIPEMD160", nullptr);
    return md;
}

}  // namespace

Bytes32 sha256(std::span<const std::uint8_t> data) noexcept { return digest<32>(md_sha256(), data, "SHA256"); }

Bytes32 sha256d(std::span<const std::uint8_t> data) noexcept {
    const Bytes32 first = sha256(data);
    return sha256(first);
}

Bytes20 ripemd160(std::span<const std::uint8_t> data) noexcept {
    return digest<20>(md_ripemd160(), data, "RIPEMD160");
}

Bytes20 hash160(std::span<const std::uint8_t> data) noexcept { return ripemd160(sha256(data)); }

Bytes64 hmac_sha512(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data1,
                    std::span<const std::uint8_t> data2) noexcept {
    Bytes64 out{};
    // HMAC(): the one-shot API accepts a single message, so concatenate into a
    // small stack buffer (BIP32 messages are 37 bytes; the master key takes 64).
    std::array<std::uint8_t, 128> msg{};
    const std::size_t n = data1.size() + data2.size();
    if (n > msg.size()) crypto_abort("HMAC-SHA512 message size");
    std::copy(data1.begin(), data1.end(), msg.begin());
    std::copy(data2.begin(), data2.end(), msg.begin() + static_cast<std::ptrdiff_t>(data1.size()));
    unsigned int len = 0;
    if (HMAC(md_sha512(), key.data(), static_cast<int>(key.size()), msg.data(), n, out.data(), &len) == nullptr ||
        len != 64) {
        crypto_abort("HMAC-SHA512");
    }
    cleanse(msg.data(), msg.size());  // may hold a private key (hardened derivation)
    return out;
}

void pbkdf2_hmac_sha512(std::span<const std::uint8_t> password, std::span<const std::uint8_t> salt,
                        std::uint32_t iterations, std::span<std::uint8_t> out) noexcept {
    if (PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password.data()), static_cast<int>(password.size()),
                          salt.data(), static_cast<int>(salt.size()), static_cast<int>(iterations), md_sha512(),
                          static_cast<int>(out.size()), out.data()) != 1) {
        crypto_abort("PBKDF2-HMAC-SHA512");
    }
}

void cleanse(void* p, std::size_t n) noexcept { OPENSSL_cleanse(p, n); }

const secp256k1_context_struct* secp_context() noexcept {
    static secp256k1_context* const ctx = [] {
        secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
        if (c == nullptr) crypto_abort("secp256k1_context_create");
        // Randomize once (side-channel blinding for secret-key operations).
        unsigned char seed[32];
        if (RAND_bytes(seed, sizeof seed) != 1) crypto_abort("RAND_bytes");
        if (secp256k1_context_randomize(c, seed) != 1) crypto_abort("secp256k1_context_randomize");
        OPENSSL_cleanse(seed, sizeof seed);
        return c;
    }();
    return ctx;
}

}  // namespace addrpool::detail

namespace addrpool {

Hash160 hash160(std::span<const std::uint8_t> data) { return detail::hash160(data); }

}  // namespace addrpool
