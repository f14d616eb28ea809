// libFuzzer target: the file codec (codec::parse, codec::encode) and
// AddressPool::deserialize / serialize.
//
// The first input byte picks a mode:
//   even: the rest is a whole file, checked as given (exercises the magic,
//         version, length and checksum checks; a random mutation almost never
//         passes SHA-256);
//   odd:  the rest is a file without its trailer; the target writes a correct
//         length field and appends the right SHA-256, so the mutations reach
//         the content checks behind the checksum.
// Oracles: a file that parses re-encodes to exactly the same bytes, through
// the codec and through a pool built from it (the format is canonical);
// nothing loaded is reserved; parse and deserialize agree on refusals.
#include <addrpool/addrpool.hpp>

#include "keys/crypto.hpp"
#include "fuzz_check.hpp"
#include "persist/codec.hpp"

#include <cstdint>
#include <string>

using namespace addrpool;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string file(reinterpret_cast<const char*>(data + 1), size - 1);
    if (data[0] & 1) {
        if (file.size() >= 18) {
            const std::uint64_t len = file.size() + 32;
            for (int k = 0; k < 8; ++k) file[10 + static_cast<std::size_t>(k)] = static_cast<char>(len >> (56 - 8 * k));
        }
        const auto sum = detail::sha256({reinterpret_cast<const std::uint8_t*>(file.data()), file.size()});
        file.append(reinterpret_cast<const char*>(sum.data()), sum.size());
    }
    auto parsed = detail::codec::parse(file);
    if (!parsed) {
        const Errc c = parsed.error().code;
        FUZZ_CHECK(c == Errc::truncated || c == Errc::bad_magic || c == Errc::unsupported_format ||
                   c == Errc::corrupt_data || c == Errc::inconsistent_data);
        FUZZ_CHECK(!parsed.error().message.empty());
        FUZZ_CHECK(!AddressPool::deserialize(file));
        return 0;
    }
    // Canonical: the codec writes back exactly what it accepted.
    FUZZ_CHECK(detail::codec::encode(*parsed) == file);
    FUZZ_CHECK(detail::codec::parse(detail::codec::encode(*parsed)).value() == *parsed);
    // Building allocates slot segments up to the highest index (32 bytes per
    // index below it, rounded up to a power of two): legitimate for a real
    // file, but beyond the fuzzer's memory limit. Build only small ones.
    if (!parsed->entries.empty() && parsed->entries.back().index >= (1u << 16)) return 0;
    auto pool = AddressPool::deserialize(file);
    FUZZ_CHECK(pool);
    FUZZ_CHECK(pool->serialize() == file);
    const PoolStats st = pool->stats();
    FUZZ_CHECK(st.reserved == 0);
    FUZZ_CHECK(st.generated == parsed->entries.size());
    FUZZ_CHECK(st.highest_used == parsed->highest_used);
    return 0;
}
