#include "keys/derive.hpp"

#include "keys/crypto.hpp"

#include <cstring>

namespace addrpool::detail {
namespace {

const secp256k1_context* ctx() noexcept { return secp_context(); }

bool serialize(const secp256k1_pubkey& point, PubKeyBytes& out) noexcept {
    std::size_t len = out.size();
    return secp256k1_ec_pubkey_serialize(ctx(), out.data(), &len, &point, SECP256K1_EC_COMPRESSED) == 1 &&
           len == out.size();
}

}  // namespace

bool point_add_tweak(const secp256k1_pubkey& point, const std::uint8_t* tweak, secp256k1_pubkey& out) noexcept {
    // tweak·G from the generator's precomputed comb (secp256k1_ec_pubkey_create),
    // then one point addition: about a fifth less time per derivation than
    // secp256k1_ec_pubkey_tweak_add, which computes 1·point + tweak·G by the
    // library's general double-scalar multiplication.
    secp256k1_pubkey tweak_g;
    if (secp256k1_ec_pubkey_create(ctx(), &tweak_g, tweak) == 1) {
        const secp256k1_pubkey* terms[2] = {&point, &tweak_g};
        // Fails exactly when the sum is the point at infinity.
        return secp256k1_ec_pubkey_combine(ctx(), &out, terms, 2) == 1;
    }
    // create refuses tweak = 0 (the sum is the point itself) as well as
    // tweak >= n (invalid): tweak_add tells the two apart. Never taken by a
    // real derivation but for a 2^-128 chance.
    out = point;
    return secp256k1_ec_pubkey_tweak_add(ctx(), &out, tweak) == 1;
}

namespace {

// The common part of CKDpub: adds IL·G to the parent point and
// returns the child point and IR. False when IL >= n or the child is the
// point at infinity (BIP32: proceed with the next index).
bool ckd_pub_point(const ChainKey& parent, std::uint32_t index, secp256k1_pubkey& child,
                   ChainCode* child_chain_code) noexcept {
    std::array<std::uint8_t, 4> ser_i{};
    put_be32(ser_i.data(), index);
    Bytes64 i = hmac_sha512(parent.chain_code, parent.key, ser_i);
    const bool ok = point_add_tweak(parent.point, i.data(), child);
    if (ok && child_chain_code != nullptr) std::memcpy(child_chain_code->data(), i.data() + 32, 32);
    // IR is the child's chain code: not secret for a public parent, but cheap to wipe.
    cleanse(i.data(), i.size());
    return ok;
}

Error hardened_error() {
    return make_error(Errc::hardened_from_public, "a hardened child cannot be derived from a public key");
}
Error invalid_child_error() {
    return make_error(Errc::invalid_child, "derivation hit an invalid child; use the next index");
}

}  // namespace

Result<ChainKey> make_chain_key(const PubKeyBytes& key, const ChainCode& chain_code) {
    ChainKey out{};
    if (key[0] != 0x02 && key[0] != 0x03) {
        return make_error(Errc::invalid_public_key, "public key prefix is not 0x02 or 0x03");
    }
    if (secp256k1_ec_pubkey_parse(ctx(), &out.point, key.data(), key.size()) != 1) {
        return make_error(Errc::invalid_public_key, "public key is not a point on secp256k1");
    }
    out.key = key;
    out.chain_code = chain_code;
    return out;
}

Result<ChainKey> ckd_pub(const ChainKey& parent, std::uint32_t index) {
    if (index >= hardened_bit) return hardened_error();
    ChainKey child{};
    if (!ckd_pub_point(parent, index, child.point, &child.chain_code)) return invalid_child_error();
    if (!serialize(child.point, child.key)) return invalid_child_error();
    return child;
}

Result<Hash160> ckd_pub_hash160(const ChainKey& parent, std::uint32_t index) {
    if (index >= hardened_bit) return hardened_error();
    secp256k1_pubkey point;
    if (!ckd_pub_point(parent, index, point, nullptr)) return invalid_child_error();
    PubKeyBytes key{};
    if (!serialize(point, key)) return invalid_child_error();
    return hash160(key);
}

PrivChainKey::PrivChainKey(PrivChainKey&& other) noexcept : secret(other.secret), chain_code(other.chain_code) {
    other.wipe();
}

PrivChainKey& PrivChainKey::operator=(PrivChainKey&& other) noexcept {
    if (this != &other) {
        secret = other.secret;
        chain_code = other.chain_code;
        other.wipe();
    }
    return *this;
}

PrivChainKey::~PrivChainKey() { wipe(); }

void PrivChainKey::wipe() noexcept {
    cleanse(secret.data(), secret.size());
    cleanse(chain_code.data(), chain_code.size());
}

Result<PrivChainKey> ckd_priv(const PrivChainKey& parent, std::uint32_t index) {
    // Hardened: 0x00 || ser256(k) || ser32(i) — all 32 bytes of k, leading
    // zeros included (stripping them is the dashcore-lib pitfall, vector 3).
    // Normal: serP(point(k)) || ser32(i).
    std::array<std::uint8_t, 37> data{};
    if (index >= hardened_bit) {
        data[0] = 0x00;
        std::memcpy(data.data() + 1, parent.secret.data(), 32);
    } else {
        auto pub = public_key_of(parent.secret);
        if (!pub) return invalid_child_error();  // parent secret invalid: cannot happen for a checked key
        std::memcpy(data.data(), pub->data(), 33);
    }
    put_be32(data.data() + 33, index);
    Bytes64 i = hmac_sha512(parent.chain_code, data);
    cleanse(data.data(), data.size());

    PrivChainKey child;
    child.secret = parent.secret;
    // k_child = IL + k_par mod n; fails exactly when IL >= n or the sum is 0.
    const bool ok = secp256k1_ec_seckey_tweak_add(ctx(), child.secret.data(), i.data()) == 1;
    std::memcpy(child.chain_code.data(), i.data() + 32, 32);
    cleanse(i.data(), i.size());
    if (!ok) return invalid_child_error();  // child's destructor wipes it
    return child;
}

Result<PubKeyBytes> public_key_of(std::span<const std::uint8_t, 32> secret) {
    if (secp256k1_ec_seckey_verify(ctx(), secret.data()) != 1) {
        return make_error(Errc::invalid_private_key, "private key is zero or not below the group order");
    }
    secp256k1_pubkey point;
    PubKeyBytes out{};
    if (secp256k1_ec_pubkey_create(ctx(), &point, secret.data()) != 1 || !serialize(point, out)) {
        return make_error(Errc::invalid_private_key, "private key has no public key");
    }
    return out;
}

}  // namespace addrpool::detail
