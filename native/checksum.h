#pragma once
#include <napi.h>
#include <cstddef>
#include <cstdint>

namespace elysia {
// Ones' complement sum of len bytes as big-endian 16-bit words, folded to 16 bits (not complemented).
uint16_t checksumSum16(const uint8_t* p, size_t len);
// Copies len bytes from src to dst (non-overlapping) and returns checksumSum16 of them: one pass over the bytes
// instead of a memcpy and a second read (GSO writes every segment's payload and needs its sum).
uint16_t checksumCopySum16(uint8_t* dst, const uint8_t* src, size_t len);
bool cpuHasAvx2();
void registerChecksum(Napi::Env env, Napi::Object exports);
}  // namespace elysia
