/* libpcap baseline for bench/suites/ebpf-jit.ts: runs bpf_filter() (libpcap's classic-BPF interpreter, the
 * one tcpdump falls back to in user space) with the program `tcpdump -dd EXPR` printed, over the same 64-byte
 * packets the eBPF engines see.
 *   usage: bpf_filter_bench PROG.dd PACKETS.bin PKT_SIZE HOT_COUNT SAMPLES [HOT_REPS]
 * PROG.dd is tcpdump -dd output ("{ 0x28, 0, 0, 0x0000000c }," per line); PACKETS.bin holds packets of
 * PKT_SIZE bytes back to back. Prints JSON: seconds per hot batch (HOT_COUNT packets) and per whole stream,
 * one number per sample (a hot sample runs the batch HOT_REPS times, default 2000), and how many packets were
 * accepted. */
#include <pcap/pcap.h>
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
  if (argc < 6) {
    fprintf(stderr, "usage: %s PROG.dd PACKETS.bin PKT_SIZE HOT_COUNT SAMPLES\n", argv[0]);
    return 2;
  }
  FILE* pf = fopen(argv[1], "r");
  if (!pf) return perror("program"), 1;
  struct bpf_insn prog[4096];
  unsigned n = 0, code, jt, jf, k;
  char line[256];
  while (fgets(line, sizeof line, pf) && n < 4096) {
    if (sscanf(line, " { 0x%x, %u, %u, 0x%x }", &code, &jt, &jf, &k) == 4) {
      prog[n].code = (unsigned short)code;
      prog[n].jt = (unsigned char)jt;
      prog[n].jf = (unsigned char)jf;
      prog[n].k = k;
      n++;
    }
  }
  fclose(pf);
  if (n == 0) return fprintf(stderr, "no instructions in %s\n", argv[1]), 1;
  struct bpf_program bp = {n, prog};
  if (!bpf_validate(bp.bf_insns, (int)bp.bf_len)) return fprintf(stderr, "bpf_validate rejected the program\n"), 1;
  FILE* df = fopen(argv[2], "rb");
  if (!df) return perror("packets"), 1;
  fseek(df, 0, SEEK_END);
  long bytes = ftell(df);
  fseek(df, 0, SEEK_SET);
  unsigned size = (unsigned)atoi(argv[3]);
  long count = bytes / size;
  unsigned char* data = malloc((size_t)bytes);
  if (!data || fread(data, 1, (size_t)bytes, df) != (size_t)bytes) return fprintf(stderr, "read failed\n"), 1;
  fclose(df);
  long hot = atol(argv[4]);
  int samples = atoi(argv[5]);
  if (hot > count) hot = count;
  volatile unsigned sink = 0;
  unsigned long accepted = 0;
  for (long i = 0; i < count; i++) accepted += bpf_filter(prog, data + (size_t)i * size, size, size) != 0;
  printf("{\"accepted\":%lu,\"hot\":[", accepted);
  for (int s = 0; s < samples; s++) {
    int reps = argc > 6 ? atoi(argv[6]) : 2000;
    if (reps < 1) reps = 1;
    double t0 = now();
    for (int r = 0; r < reps; r++)
      for (long i = 0; i < hot; i++) sink += bpf_filter(prog, data + (size_t)i * size, size, size);
    printf("%s%.9g", s ? "," : "", (now() - t0) / reps);
  }
  printf("],\"stream\":[");
  for (int s = 0; s < samples; s++) {
    double t0 = now();
    for (long i = 0; i < count; i++) sink += bpf_filter(prog, data + (size_t)i * size, size, size);
    printf("%s%.9g", s ? "," : "", now() - t0);
  }
  printf("]}\n");
  free(data);
  return sink == 0xdeadbeef ? 3 : 0;
}
