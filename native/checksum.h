#pragma once
#include <napi.h>
#include <cstddef>
#include <cstdint>

namespace elysia {
// Ones' complement sum of len bytes as big-endian 16-bit words, folded to 16 bits (not complemented).
uint16_t checksumSum16(const uint8_t* p, size_t len);
bool cpuHasAvx2();
void registerChecksum(Napi::Env env, Napi::Object exports);
}  // namespace elysia
