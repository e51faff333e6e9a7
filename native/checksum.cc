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
// Horizontal sum of eight 32-bit lanes.
__attribute__((target("avx2"))) inline uint64_t hsum32(__m256i v) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i w = _mm256_add_epi64(_mm256_unpacklo_epi32(v, zero), _mm256_unpackhi_epi32(v, zero));
  __m128i s = _mm_add_epi64(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
  return static_cast<uint64_t>(_mm_cvtsi128_si64(s)) + static_cast<uint64_t>(_mm_extract_epi64(s, 1));
}

// 16-bit lanes widened to 32 bits and added: one load, two unpacks, two adds per 32 bytes.
__attribute__((target("avx2"))) inline __m256i add16x16(__m256i acc, __m256i v) {
  const __m256i zero = _mm256_setzero_si256();
  return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_unpacklo_epi16(v, zero), _mm256_unpackhi_epi16(v, zero)));
}

__attribute__((target("avx2"))) uint64_t sumAvx2LE(const uint8_t* p, size_t len) {
  uint64_t total = 0;
  // Each 32-bit lane gains < 2^18 per 128-byte step; flush every 2^13 steps so no lane overflows.
  while (len >= 128) {
    size_t steps = len / 128;
    if (steps > 8192) steps = 8192;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < steps; i++) {
      a0 = add16x16(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
      a1 = add16x16(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)));
      a2 = add16x16(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64)));
      a3 = add16x16(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 96)));
      p += 128;
    }
    len -= steps * 128;
    total += hsum32(a0) + hsum32(a1) + hsum32(a2) + hsum32(a3);
  }
  if (len >= 32) {
    // Packet-sized input (64 B, 1500 B tails) lands here: whole 32-byte blocks, one reduction.
    __m256i a = _mm256_setzero_si256();
    while (len >= 32) {
      a = add16x16(a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
      p += 32;
      len -= 32;
    }
    total += hsum32(a);
  }
  return total + (len ? sumScalarLE(p, len) : 0);
}

// sumAvx2LE's loops with a store of each block: the bytes are summed while they pass through the registers (GSO
// writes every segment's payload and needs its sum). Kept apart from sumAvx2LE so the plain sum's code is untouched.
__attribute__((target("avx2"))) uint64_t copySumAvx2LE(uint8_t* dst, const uint8_t* p, size_t len) {
  uint64_t total = 0;
  while (len >= 128) {
    size_t steps = len / 128;
    if (steps > 8192) steps = 8192;  // lane overflow bound, as in sumAvx2LE
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < steps; i++) {
      __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
      __m256i v2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64));
      __m256i v3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 96));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v0);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 32), v1);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 64), v2);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 96), v3);
      a0 = add16x16(a0, v0);
      a1 = add16x16(a1, v1);
      a2 = add16x16(a2, v2);
      a3 = add16x16(a3, v3);
      p += 128;
      dst += 128;
    }
    len -= steps * 128;
    total += hsum32(a0) + hsum32(a1) + hsum32(a2) + hsum32(a3);
  }
  __m256i a = _mm256_setzero_si256();
  for (; len >= 32; p += 32, dst += 32, len -= 32) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v);
    a = add16x16(a, v);
  }
  total += hsum32(a);
  if (len) {
    std::memcpy(dst, p, len);
    total += sumScalarLE(p, len);
  }
  return total;
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
  uint64_t s = (hasAvx2 && !forceScalar && len >= 32) ? sumAvx2LE(p, len) : sumScalarLE(p, len);
#else
  uint64_t s = sumScalarLE(p, len);
#endif
  return swap16(fold64(s));
}

uint16_t checksumCopySum16(uint8_t* dst, const uint8_t* src, size_t len) {
#ifdef ELYSIA_X86
  if (hasAvx2 && !forceScalar && len >= 32) return swap16(fold64(copySumAvx2LE(dst, src, len)));
#endif
  std::memcpy(dst, src, len);
  return checksumSum16(dst, len);
}

void registerChecksum(Napi::Env env, Napi::Object exports) {
  exports.Set("checksumSum", Napi::Function::New(env, ChecksumSum));
  exports.Set("checksumBatch", Napi::Function::New(env, ChecksumBatch));
  exports.Set("checksumForceScalar", Napi::Function::New(env, ForceScalar));
}

}  // namespace elysia
