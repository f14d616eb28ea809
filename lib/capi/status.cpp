// The status codes and the thread-local last-error message.
//
// The message buffer is a fixed char array: recording an error never
// allocates, so reporting an out-of-memory failure cannot itself fail.
#include "capi/capi.hpp"

namespace addrpool::detail::capi {

namespace {

static_assert(ADDRPOOL_E_INVALID_ARGUMENT == static_cast<int>(Errc::invalid_argument));
static_assert(ADDRPOOL_E_INVALID_CHILD == static_cast<int>(Errc::invalid_child));
static_assert(ADDRPOOL_E_INCONSISTENT_DATA == static_cast<int>(Errc::inconsistent_data));
static_assert(ADDRPOOL_E_BACKEND_UNAVAILABLE == static_cast<int>(Errc::backend_unavailable));
static_assert(static_cast<int>(ADDRPOOL_MAINNET) == static_cast<int>(Network::mainnet));
static_assert(static_cast<int>(ADDRPOOL_REGTEST) == static_cast<int>(Network::regtest));
static_assert(static_cast<int>(ADDRPOOL_ABSENT_HARDENED) == static_cast<int>(PoolType::absent_hardened));
static_assert(static_cast<int>(ADDRPOOL_STATE_USED) == static_cast<int>(AddressState::used));
static_assert(static_cast<int>(ADDRPOOL_FORMAT_PLATFORM) == static_cast<int>(AddressFormat::platform));
static_assert(ADDRPOOL_FORMAT_P2PKH == ADDRPOOL_FORMAT_BASE58CHECK);

// The last error of this thread. Plain chars: trivially destructible, no
// allocation, valid for the thread's lifetime.
thread_local char t_last_error[256] = "";

void set_message(std::string_view m) noexcept {
    const std::size_t n = m.size() < sizeof t_last_error - 1 ? m.size() : sizeof t_last_error - 1;
    std::memcpy(t_last_error, m.data(), n);
    t_last_error[n] = '\0';
}

}  // namespace

void clear_last_error() noexcept { t_last_error[0] = '\0'; }

addrpool_status fail(addrpool_status s, std::string_view message) noexcept {
    set_message(message);
    return s;
}

addrpool_status fail(const Error& e) noexcept {
    set_message(e.message);
    return static_cast<addrpool_status>(static_cast<int>(e.code));
}

addrpool_status null_arg(const char* name) noexcept {
    char buf[96];
    std::size_t n = 0;
    auto put = [&](std::string_view s) {
        for (char c : s) {
            if (n + 1 < sizeof buf) buf[n++] = c;
        }
    };
    put("argument '");
    put(name);
    put("' is NULL");
    return fail(ADDRPOOL_E_NULL_ARGUMENT, std::string_view(buf, n));
}

}  // namespace addrpool::detail::capi

using namespace addrpool;

extern "C" {

const char* addrpool_last_error(void) { return detail::capi::t_last_error; }

const char* addrpool_status_name(addrpool_status status) {
    const long long v = detail::capi::raw(status);
    if (v == ADDRPOOL_OK) return "ok";
    if (v >= ADDRPOOL_E_INVALID_ARGUMENT && v <= ADDRPOOL_E_BACKEND_UNAVAILABLE) return errc_name(static_cast<Errc>(v));
    switch (v) {
        case ADDRPOOL_E_NULL_ARGUMENT: return "null_argument";
        case ADDRPOOL_E_BUFFER_TOO_SMALL: return "buffer_too_small";
        case ADDRPOOL_E_OUT_OF_MEMORY: return "out_of_memory";
        case ADDRPOOL_E_INTERNAL: return "internal";
        default: return "unknown";
    }
}

}  // extern "C"
