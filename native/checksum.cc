// RFC 1071 ones' complement sum: a scalar path and an AVX2 path chosen at run time by CPU feature.
// AVX2 code is compiled with a function-level target attribute (no -march), so one binary runs on any x86-64.
#include "checksum.h"
#include "common.h"

#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define ELYSIA_X86 1
#endif

namespace elysia {
namespace {

inline uint32_t fold64(uint64_t s) {
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint32_t>(s);
}

// Sum of little-endian 16-bit lanes (RFC 1071 §2(B): byte order independent, swapped once at the end).
uint64_t sumScalarLE(const uint8_t* p, size_t len) {
  uint64_t a = 0, b = 0;
  while (len >= 16) {
    uint64_t x, y;
    std::memcpy(&x, p, 8);
    std::memcpy(&y, p + 8, 8);
    a += (x & 0xffffffffu) + (x >> 32);
    b += (y & 0xffffffffu) + (y >> 32);
    p += 16;
    len -= 16;
  }
  while (len >= 4) {
    uint32_t x;
    std::memcpy(&x, p, 4);
    a += x;
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t x;
    std::memcpy(&x, p, 2);
    b += x;
    p += 2;
    len -= 2;
  }
  if (len) b += *p;  // odd last byte: the high byte of a big-endian word = the low byte of a LE lane
  return fold64(a) + static_cast<uint64_t>(fold64(b));
}

bool forceScalar = false;

#ifdef ELYSIA_X86
__attribute__((target("avx2"))) uint64_t sumAvx2LE(const uint8_t* p, size_t len) {
  const __m256i zero = _mm256_setzero_si256();
  uint64_t total = 0;
  // Each 32-bit lane gains < 2^17 per 32-byte step; flush to 64 bits every 2^14 steps so lanes never overflow.
  while (len >= 128) {
    size_t steps = len / 128;
    if (steps > 16384) steps = 16384;
    __m256i a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (size_t i = 0; i < steps; i++) {
      __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
      __m256i v2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64));
      __m256i v3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 96));
      a0 = _mm256_add_epi32(a0, _mm256_add_epi32(_mm256_unpacklo_epi16(v0, zero), _mm256_unpackhi_epi16(v0, zero)));
      a1 = _mm256_add_epi32(a1, _mm256_add_epi32(_mm256_unpacklo_epi16(v1, zero), _mm256_unpackhi_epi16(v1, zero)));
      a2 = _mm256_add_epi32(a2, _mm256_add_epi32(_mm256_unpacklo_epi16(v2, zero), _mm256_unpackhi_epi16(v2, zero)));
      a3 = _mm256_add_epi32(a3, _mm256_add_epi32(_mm256_unpacklo_epi16(v3, zero), _mm256_unpackhi_epi16(v3, zero)));
      p += 128;
    }
    len -= steps * 128;
    __m256i s = _mm256_add_epi64(
        _mm256_add_epi64(_mm256_unpacklo_epi32(a0, zero), _mm256_unpackhi_epi32(a0, zero)),
        _mm256_add_epi64(_mm256_unpacklo_epi32(a1, zero), _mm256_unpackhi_epi32(a1, zero)));
    s = _mm256_add_epi64(s, _mm256_add_epi64(_mm256_unpacklo_epi32(a2, zero), _mm256_unpackhi_epi32(a2, zero)));
    s = _mm256_add_epi64(s, _mm256_add_epi64(_mm256_unpacklo_epi32(a3, zero), _mm256_unpackhi_epi32(a3, zero)));
    alignas(32) uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
    total += lanes[0] + lanes[1] + lanes[2] + lanes[3];
  }
  return total + sumScalarLE(p, len);
}
#endif

bool detectAvx2() {
#ifdef ELYSIA_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

const bool hasAvx2 = detectAvx2();

uint16_t swap16(uint32_t x) { return static_cast<uint16_t>(((x & 0xff) << 8) | ((x >> 8) & 0xff)); }

// out[i] = finished checksum of packet i; every range is checked against the data before it is read.
Napi::Value ChecksumBatch(const Napi::CallbackInfo& info) {
  auto data = typedArg<uint8_t>(info, 0, "data");
  auto offs = typedArg<uint32_t>(info, 1, "offsets");
  auto lens = typedArg<uint32_t>(info, 2, "lengths");
  uint64_t count = uintArg(info, 3, "count", 0xffffffffu);
  auto out = typedArg<uint16_t>(info, 4, "out");
  if (count > offs.ElementLength() || count > lens.ElementLength() || count > out.ElementLength()) {
    throw Napi::RangeError::New(info.Env(), "count exceeds the offsets, lengths or out arrays");
  }
  const uint8_t* base = data.Data();
  const uint64_t size = data.ElementLength();
  const uint32_t* o = offs.Data();
  const uint32_t* l = lens.Data();
  uint16_t* r = out.Data();
  for (uint64_t i = 0; i < count; i++) {
    if (static_cast<uint64_t>(o[i]) + l[i] > size) {
      throw Napi::RangeError::New(info.Env(), "packet " + std::to_string(i) + " lies outside the batch data");
    }
  }
  for (uint64_t i = 0; i < count; i++) r[i] = static_cast<uint16_t>(~checksumSum16(base + o[i], l[i]));
  return info.Env().Undefined();
}

Napi::Value ChecksumSum(const Napi::CallbackInfo& info) {
  auto bytes = typedArg<uint8_t>(info, 0, "bytes");
  uint64_t off = uintArg(info, 1, "offset", bytes.ElementLength());
  uint64_t len = uintArg(info, 2, "length", bytes.ElementLength());
  uint64_t initial = uintArg(info, 3, "initial", 0xffffffffu);
  if (off + len > bytes.ElementLength()) throw Napi::RangeError::New(info.Env(), "checksum range outside the buffer");
  uint64_t s = static_cast<uint64_t>(checksumSum16(bytes.Data() + off, len)) + initial;
  return Napi::Number::New(info.Env(), fold64(s));
}

Napi::Value ForceScalar(const Napi::CallbackInfo& info) {
  forceScalar = info.Length() > 0 && info[0].ToBoolean().Value();
  return info.Env().Undefined();
}

}  // namespace

bool cpuHasAvx2() { return hasAvx2; }

uint16_t checksumSum16(const uint8_t* p, size_t len) {
#ifdef ELYSIA_X86
  uint64_t s = (hasAvx2 && !forceScalar && len >= 128) ? sumAvx2LE(p, len) : sumScalarLE(p, len);
#else
  uint64_t s = sumScalarLE(p, len);
#endif
  return swap16(fold64(s));
}

void registerChecksum(Napi::Env env, Napi::Object exports) {
  exports.Set("checksumSum", Napi::Function::New(env, ChecksumSum));
  exports.Set("checksumBatch", Napi::Function::New(env, ChecksumBatch));
  exports.Set("checksumForceScalar", Napi::Function::New(env, ForceScalar));
}

}  // namespace elysia
