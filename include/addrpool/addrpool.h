/* addrpool — C ABI. Placeholder until the embedding work lands. */
#ifndef ADDRPOOL_ADDRPOOL_H
#define ADDRPOOL_ADDRPOOL_H
#endif
