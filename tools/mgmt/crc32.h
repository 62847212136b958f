/* SPDX-License-Identifier: MIT */
/*
 * CRC-32 as IEEE 802.3, zlib and PNG compute it (reflected polynomial
 * 0xEDB88320, initial value and final XOR 0xFFFFFFFF), for the migration
 * stream's records and the transport's packets. Chainable as zlib's:
 * crc32(crc32(0, a, n), b, m) == crc32(0, a||b, n + m).
 */
#ifndef TERN_TOOLS_MGMT_CRC32_H
#define TERN_TOOLS_MGMT_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32(uint32_t crc, const void *buf, size_t len);

#endif
