/* Memory-bandwidth probe for the streaming eBPF cases (bench/suites/ebpf-jit.ts): how fast one core can read a
 * 64 MiB buffer (the stream's packet data) and copy it, so a stream figure can be put against what memory allows.
 *   usage: mem_bandwidth [MiB] [samples]      build: cc -O2 -o mem_bandwidth mem_bandwidth.c
 * Prints JSON: seconds per pass over the buffer, one number per sample, for a read (8 independent 64-bit sums),
 * a read touching one word per 64-byte cache line (what a filter reading a few header bytes of each 64-byte
 * packet does) and memcpy; and the best GB/s of each. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 64;
  int samples = argc > 2 ? atoi(argv[2]) : 5;
  size_t bytes = mib << 20, words = bytes / 8;
  uint64_t* a = aligned_alloc(64, bytes);
  uint64_t* b = aligned_alloc(64, bytes);
  if (!a || !b) return 1;
  for (size_t i = 0; i < words; i++) a[i] = i * 0x9e3779b97f4a7c15ull;
  memset(b, 1, bytes);
  double best_read = 0, best_line = 0, best_copy = 0;
  double* secs = calloc((size_t)samples * 3, sizeof(double));
  if (!secs) return 1;
  volatile uint64_t sink = 0;
  for (int s = 0; s < samples; s++) {
    double t0 = now();
    uint64_t x0 = 0, x1 = 0, x2 = 0, x3 = 0, x4 = 0, x5 = 0, x6 = 0, x7 = 0;
    for (size_t i = 0; i < words; i += 8) {
      x0 += a[i]; x1 += a[i + 1]; x2 += a[i + 2]; x3 += a[i + 3];
      x4 += a[i + 4]; x5 += a[i + 5]; x6 += a[i + 6]; x7 += a[i + 7];
    }
    double t1 = now();
    sink += x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
    uint64_t y = 0;
    for (size_t i = 0; i < words; i += 8) y += a[i + 1]; /* one word per 64-byte line */
    double t2 = now();
    sink += y;
    memcpy(b, a, bytes);
    double t3 = now();
    sink += b[words / 2];
    secs[s] = t1 - t0;
    secs[samples + s] = t2 - t1;
    secs[2 * samples + s] = t3 - t2;
    double r = bytes / (t1 - t0) / 1e9, l = bytes / (t2 - t1) / 1e9, c = bytes / (t3 - t2) / 1e9;
    if (r > best_read) best_read = r;
    if (l > best_line) best_line = l;
    if (c > best_copy) best_copy = c;
  }
  printf("{\"mib\":%zu,\"readGBps\":%.2f,\"lineTouchGBps\":%.2f,\"memcpyGBps\":%.2f,\"sink\":%llu", mib, best_read, best_line, best_copy,
         (unsigned long long)(sink & 1));
  const char* names[3] = {"read", "line", "copy"};
  for (int k = 0; k < 3; k++) {
    printf(",\"%s\":[", names[k]);
    for (int s = 0; s < samples; s++) printf("%s%.9g", s ? "," : "", secs[k * samples + s]);
    printf("]");
  }
  printf("}\n");
  free(secs);
  free(a);
  free(b);
  return 0;
}
