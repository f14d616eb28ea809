// addrpool — umbrella header: everything in the C++ API, and the version
// macros (ADDRPOOL_VERSION_MAJOR/MINOR/PATCH/STRING, <addrpool/version.h>).
#ifndef ADDRPOOL_ADDRPOOL_HPP
#define ADDRPOOL_ADDRPOOL_HPP

#include <addrpool/address.hpp>
#include <addrpool/key_source.hpp>
#include <addrpool/keys.hpp>
#include <addrpool/network.hpp>
#include <addrpool/pool.hpp>
#include <addrpool/result.hpp>
#include <addrpool/version.h>
#include <addrpool/wallet.hpp>

#endif
