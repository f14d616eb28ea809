// errc_name: the stable names of the error codes of result.hpp (the C ABI's
// addrpool_status_name gives the same strings).
#include <addrpool/result.hpp>

namespace addrpool {

const char* errc_name(Errc code) noexcept {
    switch (code) {
        case Errc::invalid_argument: return "invalid_argument";
        case Errc::invalid_encoding: return "invalid_encoding";
        case Errc::bad_checksum: return "bad_checksum";
        case Errc::unknown_version: return "unknown_version";
        case Errc::network_mismatch: return "network_mismatch";
        case Errc::invalid_path: return "invalid_path";
        case Errc::invalid_mnemonic: return "invalid_mnemonic";
        case Errc::mnemonic_checksum: return "mnemonic_checksum";
        case Errc::invalid_seed: return "invalid_seed";
        case Errc::key_type_mismatch: return "key_type_mismatch";
        case Errc::invalid_public_key: return "invalid_public_key";
        case Errc::invalid_private_key: return "invalid_private_key";
        case Errc::invalid_key_metadata: return "invalid_key_metadata";
        case Errc::hardened_from_public: return "hardened_from_public";
        case Errc::invalid_child: return "invalid_child";
        case Errc::depth_exceeded: return "depth_exceeded";
        case Errc::no_key_source: return "no_key_source";
        case Errc::gap_limit_reached: return "gap_limit_reached";
        case Errc::index_out_of_range: return "index_out_of_range";
        case Errc::io_error: return "io_error";
        case Errc::truncated: return "truncated";
        case Errc::bad_magic: return "bad_magic";
        case Errc::unsupported_format: return "unsupported_format";
        case Errc::corrupt_data: return "corrupt_data";
        case Errc::inconsistent_data: return "inconsistent_data";
        case Errc::index_unavailable: return "index_unavailable";
        case Errc::backend_unavailable: return "backend_unavailable";
    }
    return "unknown";  // a value cast from an integer outside the enum
}

}  // namespace addrpool
