#pragma once
// CRC-32 (zlib's) of a buffer of any size; used by the graph store and checkpoints to detect
// corrupt files.

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace archbert {

// zlib's crc32 takes at most 4 GiB per call (uInt); larger buffers go in chunks.
inline uint32_t crc32_of(const char* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(size, size_t(1) << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace archbert
