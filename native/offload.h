#pragma once
#include <napi.h>

namespace elysia {
// groBatch / gsoBatch: the native twins of src/offload/gro-engine.ts and src/offload/gso-engine.ts.
void registerOffload(Napi::Env env, Napi::Object exports);
}  // namespace elysia
