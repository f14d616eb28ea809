// addrpool_version (addrpool.h): the version of the library that is loaded,
// from the same generated header as the ADDRPOOL_VERSION_* macros.
#include <addrpool/addrpool.h>
#include <addrpool/version.h>

extern "C" const char* addrpool_version(void) { return ADDRPOOL_VERSION_STRING; }
