// Shared by the addon's translation units: argument unwrapping that checks types and bounds before any
// memory is touched. Bad arguments throw TypeError/RangeError, which src/errors.ts maps to NetworkError.
#pragma once
#include <napi.h>
#include <cstddef>
#include <cstdint>
#include <string>

namespace elysia {

template <typename T> struct TypedKind;
template <> struct TypedKind<uint8_t> { static constexpr napi_typedarray_type value = napi_uint8_array; };
template <> struct TypedKind<uint16_t> { static constexpr napi_typedarray_type value = napi_uint16_array; };
template <> struct TypedKind<uint32_t> { static constexpr napi_typedarray_type value = napi_uint32_array; };
template <> struct TypedKind<int32_t> { static constexpr napi_typedarray_type value = napi_int32_array; };
template <> struct TypedKind<uint64_t> { static constexpr napi_typedarray_type value = napi_biguint64_array; };

// A typed array argument of exactly element type T.
template <typename T>
inline Napi::TypedArrayOf<T> typedArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != TypedKind<T>::value) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " has the wrong type");
  }
  return info[i].As<Napi::TypedArrayOf<T>>();
}

// A non-negative integer argument no larger than max.
inline uint64_t uintArg(const Napi::CallbackInfo& info, size_t i, const char* what, uint64_t max) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > static_cast<double>(max) || d != static_cast<double>(static_cast<uint64_t>(d))) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + " out of range");
  }
  return static_cast<uint64_t>(d);
}

}  // namespace elysia
