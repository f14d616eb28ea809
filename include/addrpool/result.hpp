// addrpool — error codes and Result<T>.
//
// Every fallible call in the public API returns a Result: either a value or an
// Error{code, message}. Expected failures never throw across the API. Messages
// name what was wrong with the input ("word 3 is not in the BIP39 English
// list") but never echo secret material (private keys, seeds, mnemonics).
//
// std::expected is not used: clang 14 cannot compile libstdc++'s <expected>,
// and clang is the fuzzing compiler.
#ifndef ADDRPOOL_RESULT_HPP
#define ADDRPOOL_RESULT_HPP

#include <addrpool/export.hpp>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace addrpool {

// One code per distinct failure a caller can act on. Values are stable: the C
// ABI (addrpool.h) mirrors them one to one.
enum class Errc : std::int32_t {
    invalid_argument = 1,    // an argument is out of its documented range
    invalid_encoding = 2,    // not Base58 / bech32m, mixed case, wrong payload length
    bad_checksum = 3,        // Base58Check or bech32m checksum mismatch (a bech32 checksum too)
    unknown_version = 4,     // version bytes / HRP / type byte that Dash does not define
    network_mismatch = 5,    // well formed, but for another network than required
    invalid_path = 6,        // derivation path syntax, empty component, index out of range
    invalid_mnemonic = 7,    // word count not 12/15/18/21/24, or a word not in the list
    mnemonic_checksum = 8,   // every word valid, but the BIP39 checksum does not match
    invalid_seed = 9,        // seed length outside 16..64 bytes
    key_type_mismatch = 10,  // xpub version with private key data, or xprv with public data
    invalid_public_key = 11, // bad prefix, or not a point on secp256k1
    invalid_private_key = 12,// bad prefix, zero, or not below the group order
    invalid_key_metadata = 13, // depth 0 with a parent fingerprint or child number
    hardened_from_public = 14, // hardened child requested from a public key
    invalid_child = 15,      // derivation hit an invalid child (probability < 2^-127)
    depth_exceeded = 16,     // a derived key would be deeper than 255
    no_key_source = 17,      // the pool must derive, but the key source cannot
    gap_limit_reached = 18,  // GapPolicy::error and the next index is outside the gap window
    index_out_of_range = 19, // child index >= 2^31 where a non-hardened index is required
    io_error = 20,           // the file system refused (message carries errno text)
    truncated = 21,          // serialized data ends early
    bad_magic = 22,          // not an addrpool file
    unsupported_format = 23, // a format version this build cannot read
    corrupt_data = 24,       // content checksum mismatch
    inconsistent_data = 25,  // checksum fine, content contradicts itself
    index_unavailable = 26,  // the index asked for is already used or reserved
    backend_unavailable = 27,// the shared pool's database is unreachable or timed out
};

// Stable lowercase name of a code, e.g. "bad_checksum". Never null.
ADDRPOOL_EXPORT const char* errc_name(Errc code) noexcept;

struct Error {
    Errc code;
    std::string message;
};

// Result<T>: a T or an Error. Accessing value() of a failed Result (or
// error() of a successful one) is a programming error and aborts.
template <class T>
class [[nodiscard]] Result {
    static_assert(!std::is_reference_v<T>, "Result<T&> is not supported");

public:
    using value_type = T;

    Result(const T& v) : ok_(true) { ::new (&storage_.value) T(v); }  // NOLINT: implicit by design
    Result(T&& v) : ok_(true) { ::new (&storage_.value) T(std::move(v)); }  // NOLINT
    Result(Error e) : ok_(false) { ::new (&storage_.error) Error(std::move(e)); }  // NOLINT

    Result(const Result& o) : ok_(o.ok_) {
        if (ok_) ::new (&storage_.value) T(o.storage_.value);
        else ::new (&storage_.error) Error(o.storage_.error);
    }
    Result(Result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(o.ok_) {
        if (ok_) ::new (&storage_.value) T(std::move(o.storage_.value));
        else ::new (&storage_.error) Error(std::move(o.storage_.error));
    }
    Result& operator=(const Result& o) {
        if (this != &o) { destroy(); ok_ = o.ok_; construct_from(o); }
        return *this;
    }
    Result& operator=(Result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
        if (this != &o) { destroy(); ok_ = o.ok_; construct_from(std::move(o)); }
        return *this;
    }
    ~Result() { destroy(); }

    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }

    T& value() & { check(true); return storage_.value; }
    const T& value() const& { check(true); return storage_.value; }
    T&& value() && { check(true); return std::move(storage_.value); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& { check(false); return storage_.error; }
    Error&& error() && { check(false); return std::move(storage_.error); }

private:
    void check(bool want_value) const {
        if (ok_ != want_value) std::abort();
    }
    void destroy() noexcept {
        if (ok_) storage_.value.~T();
        else storage_.error.~Error();
    }
    template <class R>
    void construct_from(R&& o) {
        if (ok_) ::new (&storage_.value) T(std::forward<R>(o).storage_.value);
        else ::new (&storage_.error) Error(std::forward<R>(o).storage_.error);
    }
    union Storage {
        Storage() {}
        ~Storage() {}
        T value;
        Error error;
    } storage_;
    bool ok_;
};

// Result<void>: success, or an Error.
template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;
    Result() = default;
    Result(Error e) : error_(std::move(e)), ok_(false) {}  // NOLINT: implicit by design

    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    void value() const { if (!ok_) std::abort(); }
    const Error& error() const& { if (ok_) std::abort(); return error_; }
    Error&& error() && { if (ok_) std::abort(); return std::move(error_); }

private:
    Error error_{};
    bool ok_ = true;
};

// Shorthand used throughout: return make_error(Errc::invalid_path, "...");
inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace addrpool

#endif  // ADDRPOOL_RESULT_HPP
