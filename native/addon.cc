// Registers the addon's exports; each hot path lives in its own file.
#include <napi.h>

#include "checksum.h"
#include "offload.h"

extern "C" void elysia_register_jit(napi_env env, napi_value exports);  // jit.c: the eBPF x86-64 JIT shim

namespace {

bool cpuSupports(const char* what) {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  if (std::string(what) == "sse4.2") return __builtin_cpu_supports("sse4.2");
  if (std::string(what) == "bmi2") return __builtin_cpu_supports("bmi2");
#endif
  (void)what;
  return false;
}

Napi::Value CpuFeatures(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#if defined(__x86_64__) || defined(_M_X64)
  o.Set("arch", "x64");
#elif defined(__aarch64__)
  o.Set("arch", "arm64");
#else
  o.Set("arch", "other");
#endif
  o.Set("avx2", elysia::cpuHasAvx2());
  o.Set("sse42", cpuSupports("sse4.2"));
  o.Set("bmi2", cpuSupports("bmi2"));
  return o;
}

Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), "elysia-net native 0.1.0"); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeatures));
  elysia::registerChecksum(env, exports);
  elysia::registerOffload(env, exports);
  elysia_register_jit(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(elysia_net, Init)
