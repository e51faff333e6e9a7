// GRO merge and GSO split over whole batches: the native twins of src/offload/gro-engine.ts and
// src/offload/gso-engine.ts, byte for byte. Rules follow Linux (tcp_gro_receive, inet_gro_receive,
// ipv6_gro_receive, udp_gro_receive_segment, tcp_gso_segment, __udp_gso_segment); see the TS files for the
// reasoning behind each. The GRO state lives in JS typed arrays (so both backends share it); because JS code
// can write to them, every index and length read from the state is range-checked before it is used.
#include "offload.h"

#include <cstring>
#include <string>
#include <vector>

#include "checksum.h"
#include "common.h"

namespace elysia {
namespace {

// ---- state layout: keep in step with src/offload/gro-engine.ts ----
constexpr int32_t GRO_MAGIC = 0x47524f31;
constexpr int C_MAGIC = 0, C_MAX_FLOWS = 1, C_NBUCKETS = 2, C_SLOT_SIZE = 3, C_ACTIVE = 4, C_LRU_HEAD = 5,
              C_LRU_TAIL = 6, C_FREE_TOP = 7, C_CFG = 8, C_STAT_MERGED = 9, C_STAT_FLUSHED = 10,
              C_STAT_EVICTED = 11, C_STAT_PASSED = 12, CTRL_INTS = 16;
constexpr int32_t CFG_TCP = 1, CFG_UDP = 2, CFG_VERIFY = 4, CFG_PASSTHROUGH = 8;
constexpr int M_USED = 0, M_HASH = 1, M_L2LEN = 2, M_IPV = 3, M_L4OFF = 4, M_PROTO = 5, M_HDRLEN = 6,
              M_FRAMELEN = 7, M_GSOSIZE = 8, M_COUNT = 9, M_NEXTSEQ = 10, M_IDMODE = 11, M_FIRSTID = 12,
              M_DSUM = 13, M_CHAIN = 14, M_PREV = 15, M_NEXT = 16, M_CSUMZERO = 17, M_ADDRSUM = 18, META_INTS = 20;
constexpr uint32_t SLOT = 65600;
constexpr int UDP_GRO_MAX_SEGMENTS = 64;
constexpr int META_STRIDE = 8;
// Flows whose segments carry more payload than this (gso_size, which bounds every later segment) chain
// their payloads and copy them once at flush; smaller ones are copied into the arena while the input line
// is still in cache (a chain would re-read it from wherever it went, for no saved copy worth having).
constexpr int32_t CHAIN_MIN = 256;

constexpr uint8_t TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_URG = 0x20, TCP_CWR = 0x80;
constexpr uint8_t TCP_FLAGS_NOCMP = TCP_CWR | TCP_FIN | TCP_PSH;
constexpr uint8_t TCP_FLAGS_FINAL = TCP_URG | TCP_PSH | TCP_RST | TCP_SYN | TCP_FIN;

constexpr int GSO_NONE = 0, GSO_TCPV4 = 1, GSO_TCPV6 = 4, GSO_UDP_L4 = 5, GSO_ECN = 0x80, F_DATA_VALID = 2;

struct Corrupt {
  const char* what;
};

inline uint32_t be16(const uint8_t* p) { return (static_cast<uint32_t>(p[0]) << 8) | p[1]; }
inline uint32_t be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) | (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
inline void put16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline uint32_t fold(uint32_t s) {
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return s;
}
// Ones' complement sum of a short range (headers) as big-endian words, an odd tail padded with zero,
// folded to 16 bits. Summed as little-endian 32-bit words and swapped once (RFC 1071 §2(B)); for a non-zero
// sum the folded value in 1..0xffff is the same one the TypeScript twin reaches.
__attribute__((always_inline)) inline uint32_t sumBytes(const uint8_t* p, uint32_t len) {
  uint64_t s = 0;
  uint32_t i = 0;
  for (; i + 4 <= len; i += 4) {
    uint32_t w;
    std::memcpy(&w, p + i, 4);
    s += w;
  }
  if (i + 2 <= len) {
    uint16_t w;
    std::memcpy(&w, p + i, 2);
    s += w;
    i += 2;
  }
  if (i < len) s += p[i];
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  uint32_t x = static_cast<uint32_t>(s);
  x = (x & 0xffff) + (x >> 16);
  x = (x & 0xffff) + (x >> 16);
  return ((x & 0xff) << 8) | (x >> 8);
}
inline uint32_t ld32(const uint8_t* p);
// The IPv4 header (20 bytes) folded sum, unrolled: what ip_fast_csum checks.
inline uint32_t sum20(const uint8_t* p);
inline uint32_t ld32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t ld64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint16_t ld16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
// Short fixed-size compares inline (a memcmp call costs more than the compare for 4..40 bytes).
// The whole MAC header: addresses, every VLAN tag (vlan_gro_receive compares each TCI and inner type), EtherType.
inline bool eqMac(const uint8_t* a, const uint8_t* b, uint32_t l2) {
  bool e = ld64(a) == ld64(b) && ld32(a + 8) == ld32(b + 8) && ld16(a + 12) == ld16(b + 12);
  for (uint32_t k = 14; e && k < l2; k += 4) e = ld32(a + k) == ld32(b + k);
  return e;
}
inline bool eqWords(const uint8_t* a, const uint8_t* b, uint32_t len) {
  for (uint32_t k = 0; k < len; k += 4) if (ld32(a + k) != ld32(b + k)) return false;
  return true;
}
__attribute__((always_inline)) inline uint32_t sum20(const uint8_t* p) {
  uint64_t s = static_cast<uint64_t>(ld32(p)) + ld32(p + 4) + ld32(p + 8) + ld32(p + 12) + ld32(p + 16);
  s = (s & 0xffffffffu) + (s >> 32);
  uint32_t x = static_cast<uint32_t>(s);
  x = (x & 0xffff) + (x >> 16);
  x = (x & 0xffff) + (x >> 16);
  return ((x & 0xff) << 8) | (x >> 8);
}
// A transport header (a multiple of 4 bytes long, at most 60) folded like sumBytes, without the tail
// cases; unrolled by a jump on the word count (the loop cost more than the adds for 20..60 bytes).
__attribute__((always_inline)) inline uint32_t sumWords(const uint8_t* p, uint32_t len) {
  uint64_t s = 0;
  switch (len >> 2) {
    case 15: s += ld32(p + 56); [[fallthrough]];
    case 14: s += ld32(p + 52); [[fallthrough]];
    case 13: s += ld32(p + 48); [[fallthrough]];
    case 12: s += ld32(p + 44); [[fallthrough]];
    case 11: s += ld32(p + 40); [[fallthrough]];
    case 10: s += ld32(p + 36); [[fallthrough]];
    case 9: s += ld32(p + 32); [[fallthrough]];
    case 8: s += ld32(p + 28); [[fallthrough]];
    case 7: s += ld32(p + 24); [[fallthrough]];
    case 6: s += ld32(p + 20); [[fallthrough]];
    case 5: s += ld32(p + 16); [[fallthrough]];
    case 4: s += ld32(p + 12); [[fallthrough]];
    case 3: s += ld32(p + 8); [[fallthrough]];
    case 2: s += ld32(p + 4); [[fallthrough]];
    case 1: s += ld32(p); [[fallthrough]];
    default: break;
  }
  s = (s & 0xffffffffu) + (s >> 32);
  uint32_t x = static_cast<uint32_t>(s);
  x = (x & 0xffff) + (x >> 16);
  x = (x & 0xffff) + (x >> 16);
  return ((x & 0xff) << 8) | (x >> 8);
}
inline uint32_t swap16(uint32_t x) { return ((x & 0xff) << 8) | (x >> 8); }

// ---- header walks: twins of src/offload/headers.ts (see there for the Linux functions they follow) ----
constexpr uint32_t MAX_VLAN_TAGS = 8;
constexpr uint32_t MAX_L2 = 14 + 4 * MAX_VLAN_TAGS;
inline bool isVlanTpid(uint32_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }
// Ethernet header plus its whole VLAN tag stack, or 0 when the frame ends inside it or has too many tags.
inline uint32_t l2Length(const uint8_t* d, uint32_t len) {
  if (len < 14) return 0;
  uint32_t l2 = 14;
  while (isVlanTpid(be16(d + l2 - 2))) {
    if (l2 >= MAX_L2) return 0;
    l2 += 4;
    if (len < l2) return 0;
  }
  return l2;
}
// ipv6_gso_pull_exthdrs: skips hop-by-hop, routing and destination options; returns upper offset * 256 +
// next header, or -1 when a header runs past end.
inline int64_t ipv6Upper(const uint8_t* d, uint32_t ip, uint32_t end) {
  uint32_t nh = d[ip + 6];
  uint64_t p = ip + 40;
  while (nh == 0 || nh == 43 || nh == 60) {
    if (p + 8 > end) return -1;
    uint64_t l = (static_cast<uint64_t>(d[p + 1]) + 1) * 8;
    if (p + l > end) return -1;
    nh = d[p];
    p += l;
  }
  return static_cast<int64_t>(p * 256 + nh);
}
// RFC 8200 §8.1: where the pseudo-header's destination address is (a routing header with segments left
// names the final destination: type 0 last address, type 2 home address, type 4 Segment List[0]); -1 if
// unknown. Every header before l4 was bounds-checked by ipv6Upper.
inline int64_t ipv6PseudoDst(const uint8_t* d, uint32_t ip, uint32_t l4) {
  uint32_t nh = d[ip + 6];
  uint32_t p = ip + 40;
  int64_t dst = ip + 24;
  while (p < l4) {
    uint32_t hl = d[p + 1];
    if (nh == 43 && d[p + 3] != 0) {
      uint32_t type = d[p + 2];
      if ((type == 0 || type == 2) && hl >= 2 && (hl & 1) == 0) dst = p + 8 + 16 * (hl / 2 - 1);
      else if (type == 4 && hl >= 2) dst = p + 8;
      else return -1;
    }
    nh = d[p];
    p += (hl + 1) * 8;
  }
  return dst;
}
inline uint32_t hashMix(uint32_t h, uint32_t w) {
  h = (h ^ w) * 0x85ebca6bu;
  return h ^ (h >> 13);
}

// Output side of a batch call: the same room rule as BatchSink in src/offload/gro.ts.
struct Out {
  uint8_t* data;
  uint64_t dataLen;
  uint32_t* offs;
  uint32_t* lens;
  uint32_t count;
  uint32_t cap;
  uint64_t used;
  uint64_t am;
  int32_t* meta;

  bool fits(uint32_t n, uint64_t bytes) const { return static_cast<uint64_t>(count) + n <= cap && used + bytes + n * am <= dataLen; }
  uint64_t reserve(uint32_t len) {
    uint64_t s = (used + am) & ~am;
    offs[count] = static_cast<uint32_t>(s);
    lens[count] = len;
    used = s + len;
    count++;
    return s;
  }
  void emit(const uint8_t* src, uint32_t len, int flags, int gsoType, int gsoSize, int segs, int hdrLen, int csumStart, int csumOffset) {
    std::memcpy(put(len, flags, gsoType, gsoSize, segs, hdrLen, csumStart, csumOffset), src, len);
  }
  // Reserves a packet of len bytes with its metadata; the caller writes the bytes.
  uint8_t* put(uint32_t len, int flags, int gsoType, int gsoSize, int segs, int hdrLen, int csumStart, int csumOffset) {
    uint32_t i = count;
    uint8_t* dst = data + reserve(len);
    if (meta) {
      int32_t* m = meta + static_cast<size_t>(i) * META_STRIDE;
      m[0] = flags;
      m[1] = gsoType;
      m[2] = gsoSize;
      m[3] = segs;
      m[4] = hdrLen;
      m[5] = csumStart;
      m[6] = csumOffset;
      m[7] = 0;
    }
    return dst;
  }
};

// n bytes, W ≤ n ≤ 2W, as two overlapping fixed-size moves (the compiler turns them into register moves).
template <uint32_t W>
inline void copyTwoMoves(uint8_t* dst, const uint8_t* src, uint32_t n) {
  uint8_t a[W], b[W];
  std::memcpy(a, src, W);
  std::memcpy(b, src + n - W, W);
  std::memcpy(dst, a, W);
  std::memcpy(dst + n - W, b, W);
}

// Copies up to 64 bytes without a libc call; longer runs use memcpy.
inline void copySmall(uint8_t* dst, const uint8_t* src, uint32_t n) {
  if (n >= 16 && n <= 32) {
    copyTwoMoves<16>(dst, src, n);
  } else if (n > 32 && n <= 64) {
    copyTwoMoves<32>(dst, src, n);
  } else {
    std::memcpy(dst, src, n);
  }
}

// Which header bytes of a segment must equal the held flow's for fast() to merge it: 0xff bits must match,
// 0 bits are checked field by field (lengths, IP ID, checksums, TCP sequence number, urgent pointer is not
// compared, as in tcp_gro_receive). One table per (VLAN tag, IP version, protocol).
struct HeaderMasks {
  static constexpr uint32_t LEN = 160;  // beyond the longest header (46 + 40 + 60), 16-byte loads included
  uint8_t m[MAX_VLAN_TAGS + 1][2][2][LEN];
  HeaderMasks() {
    for (uint32_t v = 0; v <= MAX_VLAN_TAGS; v++) {
      for (int i = 0; i < 2; i++) {
        for (int t = 0; t < 2; t++) {
          uint8_t* k = m[v][i][t];
          std::memset(k, 0xff, LEN);
          uint32_t l2 = 14 + 4 * v, l4;
          if (i == 0) {
            // IPv4 (0x45 only): total length, ID and checksum differ; frag_off must equal (same DF, no fragment).
            k[l2 + 2] = k[l2 + 3] = k[l2 + 4] = k[l2 + 5] = k[l2 + 10] = k[l2 + 11] = 0;
            l4 = l2 + 20;
          } else {
            k[l2 + 4] = k[l2 + 5] = 0;  // payload length
            l4 = l2 + 40;
          }
          if (t == 0) {
            // TCP: sequence number, checksum and urgent pointer differ; CWR/FIN/PSH may differ (CWR checked apart).
            k[l4 + 4] = k[l4 + 5] = k[l4 + 6] = k[l4 + 7] = 0;
            k[l4 + 13] = static_cast<uint8_t>(~TCP_FLAGS_NOCMP);
            k[l4 + 16] = k[l4 + 17] = k[l4 + 18] = k[l4 + 19] = 0;
          } else {
            k[l4 + 4] = k[l4 + 5] = k[l4 + 6] = k[l4 + 7] = 0;  // UDP length and checksum
          }
        }
      }
    }
  }
  const uint8_t* of(uint32_t l2, uint32_t ipv, uint32_t proto) const {
    // l2 is 14 + 4·tags, ipv 4 or 6, proto 6 or 17: (l2 - 14) | (ipv & 2) | (proto & 1) is the table index.
    uint32_t i = (l2 - 14) | (ipv & 2) | (proto & 1);
    return &m[0][0][0][0] + (i < (MAX_VLAN_TAGS + 1) * 4 ? i : 0) * LEN;
  }
};
const HeaderMasks kMasks;

// (a ^ b) & mask == 0 over len bytes (16 <= len <= 144), 16 bytes at a time with an overlapping last block.
typedef uint64_t V2 __attribute__((vector_size(16)));
__attribute__((always_inline)) inline V2 ldv(const uint8_t* p) {
  V2 v;
  std::memcpy(&v, p, 16);
  return v;
}
__attribute__((always_inline)) inline bool maskedEqual(const uint8_t* a, const uint8_t* b, const uint8_t* mk, uint32_t len) {
  V2 acc = (ldv(a + len - 16) ^ ldv(b + len - 16)) & ldv(mk + len - 16);
  uint32_t k = 0;
  for (; k + 32 <= len; k += 32) {
    acc |= (ldv(a + k) ^ ldv(b + k)) & ldv(mk + k);
    acc |= (ldv(a + k + 16) ^ ldv(b + k + 16)) & ldv(mk + k + 16);
  }
  if (k + 16 <= len) acc |= (ldv(a + k) ^ ldv(b + k)) & ldv(mk + k);
  return (acc[0] | acc[1]) == 0;
}

// Per-call bookkeeping that never leaves native code (so the shared JS state keeps its layout). Within one
// groBatch call a merged segment's payload is not copied into the arena: the flow keeps a chain of input
// packet indices (as Linux keeps a frag list of skbs) and flushSlot copies each payload once, straight from
// the input into the output. Flows still held when the call returns get their chains copied into the arena,
// so between calls the arena again holds every held frame whole (what the TypeScript engine expects).
struct SlotScratch {
  uint32_t epoch;      // entry is meaningful only when equal to the call's epoch
  uint32_t validated;  // epoch in which held() last checked this record (native writes keep it consistent)
  int32_t head, tail;  // chain of input indices whose payloads are not yet in the arena (-1: none)
  uint32_t bytes;      // payload bytes in that chain
};
struct CallScratch {
  std::vector<SlotScratch> slots;
  std::vector<int32_t> next;   // chain links, indexed by input packet
  std::vector<int32_t> dirty;  // slots that got a chain in this call
  uint32_t epoch = 0;
};
thread_local CallScratch tlScratch;

struct Gro {
  int32_t* st;
  double* times;
  uint8_t* arena;
  int32_t maxFlows;
  int32_t nb;
  size_t bk, fr, mt;
  // Set by begin(): the input of this call (null for groFlush) and the scratch above.
  const uint8_t* in = nullptr;
  const uint32_t* io = nullptr;
  const uint32_t* il = nullptr;
  SlotScratch* sc = nullptr;
  int32_t* nxt = nullptr;
  std::vector<int32_t>* dirty = nullptr;
  uint32_t epoch = 0;

  void begin(const uint8_t* inData, const uint32_t* inOffs, const uint32_t* inLens, uint64_t end) {
    CallScratch& c = tlScratch;
    if (c.slots.size() < static_cast<size_t>(maxFlows)) c.slots.resize(maxFlows, SlotScratch{0, 0, -1, -1, 0});
    if (c.next.size() < end) c.next.resize(end);
    c.dirty.clear();
    if (++c.epoch == 0) {
      // Wrapped: no entry may look current by accident.
      for (auto& e : c.slots) e.epoch = e.validated = 0;
      c.epoch = 1;
    }
    in = inData;
    io = inOffs;
    il = inLens;
    sc = c.slots.data();
    nxt = c.next.data();
    dirty = &c.dirty;
    epoch = c.epoch;
  }
  // Payload bytes of a slot's frame that still sit in the input (0 outside a chain).
  uint32_t pendingBytes(int32_t s) const {
    const SlotScratch& e = sc[s];
    return e.epoch == epoch && e.head >= 0 ? e.bytes : 0;
  }
  // Appends input packet i's payload (after hdr bytes) to slot s's chain.
  __attribute__((always_inline)) void chain(int32_t s, int32_t i, uint32_t payload) {
    SlotScratch& e = sc[s];
    nxt[i] = -1;
    if (e.epoch != epoch || e.head < 0) {
      if (e.epoch != epoch) dirty->push_back(s);
      e.epoch = epoch;
      e.head = i;
      e.bytes = 0;
    } else {
      nxt[e.tail] = i;
    }
    e.tail = i;
    e.bytes += payload;
  }
  // Copies a slot's chained payloads to dst (hdr: the flow's header length) and ends the chain.
  void drain(int32_t s, uint8_t* dst, uint32_t hdr) {
    SlotScratch& e = sc[s];
    if (e.epoch != epoch) return;
    for (int32_t j = e.head; j >= 0; j = nxt[j]) {
      uint32_t n = il[j] - hdr;
      copySmall(dst, in + io[j] + hdr, n);
      dst += n;
    }
    e.head = -1;
    e.bytes = 0;
  }
  // End of a call: chains of flows still held move into the arena.
  void materialize() {
    if (!dirty) return;
    for (int32_t s : *dirty) {
      SlotScratch& e = sc[s];
      if (e.epoch == epoch && e.head >= 0) {
        int32_t* m = rec(s);
        uint32_t fl = static_cast<uint32_t>(m[M_FRAMELEN]);
        if (e.bytes > fl || fl >= SLOT) throw Corrupt{"chained payload exceeds the frame"};
        drain(s, base(s) + (fl - e.bytes), static_cast<uint32_t>(m[M_HDRLEN]));
      }
      e.epoch = 0;
    }
    dirty->clear();
  }

  int32_t* rec(int32_t s) {
    if (static_cast<uint32_t>(s) >= static_cast<uint32_t>(maxFlows)) throw Corrupt{"slot index out of range"};
    return st + mt + static_cast<size_t>(s) * META_INTS;
  }
  uint8_t* base(int32_t s) { return arena + static_cast<size_t>(s) * SLOT; }

  // The state lives in JS typed arrays, so every index and length read from it is checked before use:
  // rec() checks the index, held() that the record is in use and describes a frame inside its slot. (A
  // whole-state check per call would cost O(maxFlows) even for a 64-packet batch; these are O(1) per packet.)
  int32_t* held(int32_t s) {
    int32_t* m = rec(s);
    // Checked once per call: after that only this call's own (consistent) writes touch the record.
    if (sc && sc[s].validated == epoch) return m;
    int32_t l2 = m[M_L2LEN], l4 = m[M_L4OFF], hdr = m[M_HDRLEN], fl = m[M_FRAMELEN];
    // IPv4: 20..60 header bytes; IPv6: 40 plus extension headers (multiples of 8).
    bool l3ok = m[M_IPV] == 4 ? l4 >= l2 + 20 && l4 <= l2 + 60 : l4 >= l2 + 40 && ((l4 - l2 - 40) & 7) == 0;
    if (m[M_USED] != 1 || l2 < 14 || l2 > static_cast<int32_t>(MAX_L2) || ((l2 - 14) & 3) != 0 || !l3ok || hdr < l4 + 8 || hdr > l4 + 60 ||
        ((hdr - l4) & 3) != 0 || fl < hdr || fl >= static_cast<int32_t>(SLOT) || m[M_COUNT] < 1 || (m[M_IPV] != 4 && m[M_IPV] != 6) ||
        (m[M_PROTO] != 6 && m[M_PROTO] != 17) || m[M_GSOSIZE] < 0 || m[M_GSOSIZE] > 65535) {
      throw Corrupt{"flow record inconsistent"};
    }
    if (sc) sc[s].validated = epoch;
    return m;
  }

  bool pass(const uint8_t* d, uint32_t len, Out& out, int32_t slot) {
    if (slot >= 0) {
      if (!out.fits(2, static_cast<uint64_t>(len) + held(slot)[M_FRAMELEN])) return false;
      flushSlot(slot, out);
    } else if (!out.fits(1, len)) {
      return false;
    }
    out.emit(d, len, 0, GSO_NONE, 0, 1, 0, 0, 0);
    st[C_STAT_PASSED]++;
    return true;
  }

  int32_t lookup(const uint8_t* d, uint32_t l2, int ipv, uint32_t proto, uint32_t l4, int32_t h) {
    int32_t s = st[bk + (static_cast<uint32_t>(h) & static_cast<uint32_t>(nb - 1))];
    int guard = maxFlows + 1;
    while (s >= 0) {
      if (--guard < 0) throw Corrupt{"bucket chain loops"};
      int32_t* m = rec(s);
      if (m[M_HASH] == h && m[M_L2LEN] == static_cast<int32_t>(l2) && m[M_IPV] == ipv && m[M_PROTO] == static_cast<int32_t>(proto)) {
        held(s);
        const uint8_t* b = base(s);
        bool same = eqMac(b, d, l2) && ld32(b + m[M_L4OFF]) == ld32(d + l4);
        if (same) {
          if (ipv == 4) {
            same = ld64(b + l2 + 12) == ld64(d + l2 + 12);
          } else {
            // Flow label, addresses, next header and the extension headers byte for byte (ipv6_gro_receive).
            same = ((be32(b + l2) ^ be32(d + l2)) & 0xf00fffffu) == 0 && eqWords(b + l2 + 8, d + l2 + 8, 32) &&
                   m[M_L4OFF] == static_cast<int32_t>(l4) && b[l2 + 6] == d[l2 + 6] &&
                   std::memcmp(b + l2 + 40, d + l2 + 40, l4 - l2 - 40) == 0;
          }
          if (same) return s;
        }
      }
      s = m[M_CHAIN];
    }
    return -1;
  }

  uint32_t payloadSumOfFirst(int32_t slot, int32_t* m) {
    const uint8_t* b = base(slot);
    uint32_t l4 = m[M_L4OFF], hdr = m[M_HDRLEN], proto = m[M_PROTO];
    if (proto == 17 && m[M_CSUMZERO]) return 0;
    uint32_t l4len = m[M_FRAMELEN] - l4;
    uint32_t pseudo = static_cast<uint32_t>(m[M_ADDRSUM]) + proto + (l4len >> 16) + (l4len & 0xffff);
    return ~fold(pseudo + sumBytes(b + l4, hdr - l4)) & 0xffff;
  }

  void flushSlot(int32_t slot, Out& out) {
    int32_t* m = held(slot);
    uint8_t* b = base(slot);
    uint32_t l2 = m[M_L2LEN], l4 = m[M_L4OFF], hdr = m[M_HDRLEN], fl = m[M_FRAMELEN], proto = m[M_PROTO];
    int32_t n = m[M_COUNT];
    int ipv = m[M_IPV];
    int vflags = (st[C_CFG] & CFG_VERIFY) ? F_DATA_VALID : 0;
    uint32_t csumOffset = proto == 6 ? 16 : 6;
    int gsoType = GSO_NONE, gsoSize = 0;
    if (n > 1) {
      uint32_t l3len = fl - l2;
      if (ipv == 4) {
        put16(b + l2 + 2, l3len);
        put16(b + l2 + 10, 0);
        put16(b + l2 + 10, ~fold(sumBytes(b + l2, 20)) & 0xffff);
      } else {
        put16(b + l2 + 4, l3len - 40);
      }
      uint32_t l4len = fl - l4;
      uint8_t* ck = b + l4 + csumOffset;
      if (proto == 17) put16(b + l4 + 4, l4len);
      if (!(proto == 17 && m[M_CSUMZERO])) {
        put16(ck, 0);
        uint32_t pseudo = static_cast<uint32_t>(m[M_ADDRSUM]) + proto + (l4len >> 16) + (l4len & 0xffff);
        uint32_t c = ~fold(pseudo + sumBytes(b + l4, hdr - l4) + static_cast<uint32_t>(m[M_DSUM] & 0xffff)) & 0xffff;
        if (c == 0 && proto == 17) c = 0xffff;
        put16(ck, c);
      }
      gsoSize = m[M_GSOSIZE];
      if (proto == 6) {
        gsoType = ipv == 4 ? GSO_TCPV4 : GSO_TCPV6;
        if (b[l4 + 13] & TCP_CWR) gsoType |= GSO_ECN;
      } else {
        gsoType = GSO_UDP_L4;
      }
    }
    uint32_t pend = pendingBytes(slot);
    if (pend == 0) {
      out.emit(b, fl, vflags, gsoType, gsoSize, n, hdr, l4, csumOffset);
    } else {
      // Header and any payload carried over from an earlier call come from the arena, the rest from the input.
      if (pend > fl - hdr) throw Corrupt{"chained payload exceeds the frame"};
      uint8_t* o = out.put(fl, vflags, gsoType, gsoSize, n, hdr, l4, csumOffset);
      std::memcpy(o, b, fl - pend);
      drain(slot, o + (fl - pend), hdr);
    }
    sc[slot].validated = 0;
    // Unlink from the bucket chain and the age list; return the slot to the free stack.
    size_t bucket = bk + (static_cast<uint32_t>(m[M_HASH]) & static_cast<uint32_t>(nb - 1));
    int32_t p = st[bucket];
    if (p == slot) {
      st[bucket] = m[M_CHAIN];
    } else {
      int guard = maxFlows + 1;
      while (p >= 0 && --guard >= 0) {
        int32_t* pm = rec(p);
        if (pm[M_CHAIN] == slot) {
          pm[M_CHAIN] = m[M_CHAIN];
          break;
        }
        p = pm[M_CHAIN];
      }
    }
    int32_t prev = m[M_PREV], next = m[M_NEXT];
    if (prev >= 0) rec(prev)[M_NEXT] = next;
    else st[C_LRU_HEAD] = next;
    if (next >= 0) rec(next)[M_PREV] = prev;
    else st[C_LRU_TAIL] = prev;
    m[M_USED] = 0;
    int32_t top = st[C_FREE_TOP];
    if (top < 0 || top >= maxFlows) throw Corrupt{"free stack overflow"};
    st[fr + top] = slot;
    st[C_FREE_TOP] = top + 1;
    st[C_ACTIVE]--;
    st[C_STAT_FLUSHED]++;
  }

  // Appends a segment that continues held flow `slot` (every rule already checked): its payload joins the
  // chain, its checksum contribution is derived from its own checksum, and a final segment flushes the flow.
  __attribute__((always_inline)) void append(int32_t idx, int32_t slot, int32_t* m, const uint8_t* d, uint32_t l4, uint32_t hdrLen,
                                             uint32_t payload, uint32_t proto, uint8_t flags, uint32_t seq, uint32_t csum, uint32_t pseudo, Out& out) {
    int32_t n = m[M_COUNT];
    uint32_t fl = m[M_FRAMELEN];
    if (n == 1) m[M_DSUM] = static_cast<int32_t>(payloadSumOfFirst(slot, m));
    if (proto == 6 || csum != 0) {
      uint32_t ds = ~fold(pseudo + sumWords(d + l4, hdrLen - l4)) & 0xffff;
      if ((fl - hdrLen) & 1) ds = swap16(ds);
      m[M_DSUM] = static_cast<int32_t>(fold(static_cast<uint32_t>(m[M_DSUM]) + ds));
    }
    if (m[M_GSOSIZE] > CHAIN_MIN) chain(slot, idx, payload);
    else copySmall(base(slot) + fl, d + hdrLen, payload);
    m[M_FRAMELEN] = static_cast<int32_t>(fl + payload);
    m[M_COUNT] = n + 1;
    st[C_STAT_MERGED]++;
    bool done;
    if (proto == 6) {
      m[M_NEXTSEQ] = static_cast<int32_t>(seq + payload);
      base(slot)[l4 + 13] |= flags & (TCP_FIN | TCP_PSH);
      done = static_cast<int32_t>(payload) < m[M_GSOSIZE] || (flags & TCP_FLAGS_FINAL) != 0;
    } else {
      done = static_cast<int32_t>(payload) < m[M_GSOSIZE] || n + 1 >= UDP_GRO_MAX_SEGMENTS;
    }
    if (done) flushSlot(slot, out);
  }

  // The common case in one pass: a segment that continues a held flow. The held header and the segment's
  // must agree wherever the rules below (one() and lookup()) demand equality: one masked compare of the
  // whole header stands for the flow-identity compare and the per-field rules; the fields that may differ
  // (lengths, IP ID, checksums, sequence number) are checked one by one as one() does. Anything else (a
  // new flow, a segment that ends a merge, a packet that passes) returns false without touching the state,
  // and one() decides it by the full rules. Accepting exactly what one() would merge keeps the backends'
  // bytes identical.
  __attribute__((always_inline)) bool fast(int32_t idx, const uint8_t* d, uint32_t len, Out& out, int32_t cfg) {
    if (len < 58) return false;  // 14 + 44: the shortest packet the reads below need
    uint32_t l2 = 14;
    uint32_t et = be16(d + 12);
    if (isVlanTpid(et)) {
      l2 = l2Length(d, len);
      if (l2 == 0) return false;
      et = be16(d + l2 - 2);
    }
    if (len < l2 + 44) return false;  // every read below stays inside the packet (l2 + 40 + 4)
    const uint8_t* ip = d + l2;
    uint32_t proto, l4, ipv;
    if (et == 0x0800) {
      if (ip[0] != 0x45) return false;
      proto = ip[9];
      l4 = l2 + 20;
      ipv = 4;
    } else if (et == 0x86dd) {
      if ((ip[0] >> 4) != 6) return false;
      proto = ip[6];
      l4 = l2 + 40;
      ipv = 6;
    } else {
      return false;
    }
    if (!(proto == 6 ? (cfg & CFG_TCP) : proto == 17 ? (cfg & CFG_UDP) : 0)) return false;
    int32_t slot;
    int32_t* m = nullptr;
    {
      uint32_t h;
      if (ipv == 4) {
        h = hashMix(0x9e3779b9u, proto | (4u << 8));
        h = hashMix(h, be32(ip + 12));
        h = hashMix(h, be32(ip + 16));
      } else {
        h = hashMix(0x9e3779b9u, proto | (6u << 8));
        for (int k = 8; k < 40; k += 4) h = hashMix(h, be32(ip + k));
      }
      h = hashMix(h, be32(d + l4));
      int32_t hh = static_cast<int32_t>(h ^ (h >> 16));
      slot = st[bk + (static_cast<uint32_t>(hh) & static_cast<uint32_t>(nb - 1))];
      int guard = maxFlows + 1;
      while (slot >= 0) {
        if (--guard < 0) throw Corrupt{"bucket chain loops"};
        m = rec(slot);
        if (m[M_HASH] == hh && m[M_L2LEN] == static_cast<int32_t>(l2)) break;
        slot = m[M_CHAIN];
      }
    }
    if (slot < 0) return false;
    held(slot);
    if (m[M_IPV] != static_cast<int32_t>(ipv) || m[M_PROTO] != static_cast<int32_t>(proto) || m[M_L4OFF] != static_cast<int32_t>(l4)) return false;
    uint32_t hdrLen = static_cast<uint32_t>(m[M_HDRLEN]);
    if (len <= hdrLen) return false;
    const uint8_t* hb = base(slot);
    const uint8_t* mk = kMasks.of(l2, ipv, proto);
    if (!maskedEqual(hb, d, mk, hdrLen)) return false;
    uint32_t payload = len - hdrLen;
    uint32_t fl = static_cast<uint32_t>(m[M_FRAMELEN]);
    if (!out.fits(2, static_cast<uint64_t>(len) + fl)) return false;
    if (static_cast<int32_t>(payload) > m[M_GSOSIZE] || static_cast<int64_t>(fl) - l2 + payload > 65535) return false;
    int32_t mode = 0;
    if (ipv == 4) {
      if (be16(ip + 2) != len - l2 || sum20(ip) != 0xffff) return false;
      uint32_t id = be16(ip + 4);
      int32_t cur = m[M_IDMODE];
      if (id == ((static_cast<uint32_t>(m[M_FIRSTID]) + static_cast<uint32_t>(m[M_COUNT])) & 0xffff) && cur != 2) mode = 1;
      else if (id == static_cast<uint32_t>(m[M_FIRSTID]) && (ip[6] & 0x40) && cur != 1) mode = 2;
      else return false;
    } else if (be16(ip + 4) != len - l2 - 40) {
      return false;
    }
    uint8_t flags = 0;
    uint32_t seq = 0, csum;
    if (proto == 6) {
      flags = d[l4 + 13];
      seq = be32(d + l4 + 4);
      if ((flags & TCP_CWR) || seq != static_cast<uint32_t>(m[M_NEXTSEQ])) return false;
      csum = be16(d + l4 + 16);
    } else {
      csum = be16(d + l4 + 6);
      if (be16(d + l4 + 4) != len - l4 || (ipv == 6 && csum == 0) || (csum == 0 ? 1 : 0) != m[M_CSUMZERO]) return false;
    }
    if (ipv == 4) m[M_IDMODE] = mode;
    uint32_t l4len = len - l4;
    uint32_t pseudo = static_cast<uint32_t>(m[M_ADDRSUM]) + proto + (l4len >> 16) + (l4len & 0xffff);
    append(idx, slot, m, d, l4, hdrLen, payload, proto, flags, seq, csum, pseudo, out);
    return true;
  }

  __attribute__((always_inline)) bool one(int32_t idx, const uint8_t* d, uint32_t len, double now, Out& out, int32_t cfg, bool verify) {
    uint32_t l2 = l2Length(d, len);
    if (l2 == 0) return pass(d, len, out, -1);
    uint32_t et = be16(d + l2 - 2);
    const uint8_t* ip = d + l2;
    int ipv;
    uint32_t proto, l4;
    bool mergeable = true;
    if (et == 0x0800) {
      if (len < l2 + 20 || (ip[0] >> 4) != 4) return pass(d, len, out, -1);
      uint32_t ihl = (ip[0] & 15) * 4;
      proto = ip[9];
      l4 = l2 + ihl;
      if ((be16(ip + 6) & 0x1fff) != 0 || ihl < 20 || len < l4 + 4) return pass(d, len, out, -1);
      if (ip[0] != 0x45 || (be16(ip + 6) & 0xbfff) != 0 || be16(ip + 2) != len - l2 || sum20(ip) != 0xffff) mergeable = false;
      ipv = 4;
    } else if (et == 0x86dd) {
      if (len < l2 + 44 || (ip[0] >> 4) != 6) return pass(d, len, out, -1);
      int64_t u = ipv6Upper(d, l2, len);
      if (u < 0) return pass(d, len, out, -1);
      proto = static_cast<uint32_t>(u & 0xff);
      l4 = static_cast<uint32_t>(u >> 8);
      if ((proto != 6 && proto != 17) || len < l4 + 4) return pass(d, len, out, -1);
      if (be16(ip + 4) != len - l2 - 40) mergeable = false;
      if (l4 != l2 + 40 && ipv6PseudoDst(d, l2, l4) != l2 + 24) mergeable = false;
      ipv = 6;
    } else {
      return pass(d, len, out, -1);
    }
    if (proto == 6) {
      if (!(cfg & CFG_TCP)) return pass(d, len, out, -1);
    } else if (proto == 17) {
      if (!(cfg & CFG_UDP)) return pass(d, len, out, -1);
    } else {
      return pass(d, len, out, -1);
    }
    uint32_t h = hashMix(0x9e3779b9u, proto | (static_cast<uint32_t>(ipv) << 8));
    uint32_t addrSum = 0;
    if (ipv == 4) {
      uint32_t sa = be32(ip + 12), da = be32(ip + 16);
      h = hashMix(h, sa);
      h = hashMix(h, da);
      addrSum = (sa >> 16) + (sa & 0xffff) + (da >> 16) + (da & 0xffff);
    } else {
      for (int k = 8; k < 40; k += 4) {
        h = hashMix(h, be32(ip + k));
        addrSum += be16(ip + k) + be16(ip + k + 2);
      }
    }
    h = hashMix(h, be32(d + l4));
    int32_t hh = static_cast<int32_t>(h ^ (h >> 16));
    int32_t slot = lookup(d, l2, ipv, proto, l4, hh);
    int32_t* m = slot >= 0 ? rec(slot) : nullptr;

    uint64_t need = len;
    if (slot >= 0) need += static_cast<uint32_t>(m[M_FRAMELEN]);
    else if (st[C_ACTIVE] >= maxFlows) need += static_cast<uint32_t>(held(st[C_LRU_HEAD])[M_FRAMELEN]);
    if (!out.fits(2, need)) return false;

    uint32_t payload, hdrLen, seq = 0, csum, l4len;
    uint8_t flags = 0;
    if (proto == 6) {
      if (len < l4 + 20) return pass(d, len, out, slot);
      uint32_t thl = (d[l4 + 12] >> 4) * 4;
      if (thl < 20 || len < l4 + thl) return pass(d, len, out, slot);
      hdrLen = l4 + thl;
      payload = len - hdrLen;
      flags = d[l4 + 13];
      seq = be32(d + l4 + 4);
      csum = be16(d + l4 + 16);
      l4len = len - l4;
      if (payload == 0) mergeable = false;
    } else {
      hdrLen = l4 + 8;
      if (len < l4 + 8) return pass(d, len, out, slot);
      uint32_t ulen = be16(d + l4 + 4);
      payload = len - hdrLen;
      csum = be16(d + l4 + 6);
      l4len = len - l4;
      if (ulen != len - l4 || payload == 0 || (ipv == 6 && csum == 0)) mergeable = false;
    }
    uint32_t pseudo = addrSum + proto + (l4len >> 16) + (l4len & 0xffff);
    if (mergeable && verify && !(proto == 17 && csum == 0)) {
      if (fold(pseudo + checksumSum16(d + l4, l4len)) != 0xffff) mergeable = false;
    }
    if (!mergeable) return pass(d, len, out, slot);

    if (slot >= 0) {
      uint8_t* hb = base(slot);
      bool ok = m[M_HDRLEN] == static_cast<int32_t>(hdrLen) && static_cast<int32_t>(payload) <= m[M_GSOSIZE] &&
                static_cast<int64_t>(m[M_FRAMELEN]) - l2 + payload <= 65535;
      if (ok && ipv == 4) {
        ok = hb[l2 + 1] == ip[1] && hb[l2 + 8] == ip[8] && (hb[l2 + 6] & 0x40) == (ip[6] & 0x40);
        if (ok) {
          uint32_t id = be16(ip + 4);
          int32_t n = m[M_COUNT];
          int32_t mode = m[M_IDMODE];
          if (id == ((static_cast<uint32_t>(m[M_FIRSTID]) + static_cast<uint32_t>(n)) & 0xffff) && mode != 2) m[M_IDMODE] = 1;
          else if (id == static_cast<uint32_t>(m[M_FIRSTID]) && (ip[6] & 0x40) && mode != 1) m[M_IDMODE] = 2;
          else ok = false;
        }
      } else if (ok) {
        ok = (hb[l2] & 0x0f) == (ip[0] & 0x0f) && (hb[l2 + 1] & 0xf0) == (ip[1] & 0xf0) && hb[l2 + 7] == ip[7];
      }
      if (ok && proto == 6) {
        const uint8_t* t = hb + l4;
        const uint8_t* u = d + l4;
        // tcp_gro_receive compares the whole flag word (data offset, flags, window) except CWR/FIN/PSH.
        ok = ((be32(t + 12) ^ be32(u + 12)) & ~(static_cast<uint32_t>(TCP_FLAGS_NOCMP) << 16)) == 0 && (flags & TCP_CWR) == 0 &&
             seq == static_cast<uint32_t>(m[M_NEXTSEQ]) && ld32(t + 8) == ld32(u + 8) &&
             eqWords(t + 20, u + 20, hdrLen - l4 - 20);
      } else if (ok) {
        ok = (csum == 0 ? 1 : 0) == m[M_CSUMZERO];
      }
      if (ok) {
        append(idx, slot, m, d, l4, hdrLen, payload, proto, flags, seq, csum, pseudo, out);
        return true;
      }
      flushSlot(slot, out);
    }
    if (proto == 6 && (flags & TCP_FLAGS_FINAL)) return pass(d, len, out, -1);
    if (st[C_ACTIVE] >= maxFlows) {
      flushSlot(st[C_LRU_HEAD], out);
      st[C_STAT_EVICTED]++;
    }
    int32_t top = st[C_FREE_TOP] - 1;
    if (top < 0 || top >= maxFlows) throw Corrupt{"free stack empty"};
    st[C_FREE_TOP] = top;
    int32_t s = st[fr + top];
    int32_t* nm = rec(s);
    if (payload > CHAIN_MIN) {
      std::memcpy(base(s), d, hdrLen);
      chain(s, idx, payload);
    } else {
      std::memcpy(base(s), d, len);
    }
    sc[s].validated = epoch;
    nm[M_USED] = 1;
    nm[M_HASH] = hh;
    nm[M_L2LEN] = static_cast<int32_t>(l2);
    nm[M_IPV] = ipv;
    nm[M_L4OFF] = static_cast<int32_t>(l4);
    nm[M_PROTO] = static_cast<int32_t>(proto);
    nm[M_HDRLEN] = static_cast<int32_t>(hdrLen);
    nm[M_FRAMELEN] = static_cast<int32_t>(len);
    nm[M_GSOSIZE] = static_cast<int32_t>(payload);
    nm[M_COUNT] = 1;
    nm[M_NEXTSEQ] = static_cast<int32_t>(seq + payload);
    nm[M_IDMODE] = 0;
    nm[M_FIRSTID] = ipv == 4 ? static_cast<int32_t>(be16(ip + 4)) : 0;
    nm[M_DSUM] = 0;
    nm[M_CSUMZERO] = proto == 17 && csum == 0 ? 1 : 0;
    nm[M_ADDRSUM] = static_cast<int32_t>(addrSum);
    size_t b2 = bk + (static_cast<uint32_t>(hh) & static_cast<uint32_t>(nb - 1));
    nm[M_CHAIN] = st[b2];
    st[b2] = s;
    int32_t tail = st[C_LRU_TAIL];
    nm[M_PREV] = tail;
    nm[M_NEXT] = -1;
    if (tail >= 0) rec(tail)[M_NEXT] = s;
    else st[C_LRU_HEAD] = s;
    st[C_LRU_TAIL] = s;
    st[C_ACTIVE]++;
    times[s] = now;
    return true;
  }
};

// Checks a GRO state's header against the sizes of its arrays before anything in it is trusted.
Gro openState(Napi::Env env, Napi::TypedArrayOf<int32_t>& state, Napi::Float64Array& times, Napi::TypedArrayOf<uint8_t>& arena) {
  int32_t* st = state.Data();
  size_t stLen = state.ElementLength();
  if (stLen < CTRL_INTS || st[C_MAGIC] != GRO_MAGIC) throw Napi::TypeError::New(env, "state is not a GRO state");
  int32_t maxFlows = st[C_MAX_FLOWS], nb = st[C_NBUCKETS];
  if (maxFlows < 1 || maxFlows > 65536 || nb < 1 || (nb & (nb - 1)) != 0 || nb > (1 << 20) || st[C_SLOT_SIZE] != static_cast<int32_t>(SLOT)) {
    throw Napi::RangeError::New(env, "GRO state header corrupt");
  }
  size_t bk = CTRL_INTS, fr = bk + nb, mt = fr + maxFlows;
  if (stLen < mt + static_cast<size_t>(maxFlows) * META_INTS || times.ElementLength() < static_cast<size_t>(maxFlows) ||
      arena.ElementLength() < static_cast<size_t>(maxFlows) * SLOT) {
    throw Napi::RangeError::New(env, "GRO state arrays too small for their header");
  }
  if (st[C_ACTIVE] < 0 || st[C_ACTIVE] > maxFlows || st[C_FREE_TOP] != maxFlows - st[C_ACTIVE]) throw Napi::RangeError::New(env, "GRO state counters corrupt");
  return Gro{st, times.Data(), arena.Data(), maxFlows, nb, bk, fr, mt};
}

Napi::Float64Array float64Arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " has the wrong type");
  }
  return info[i].As<Napi::Float64Array>();
}

Napi::Value GroBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto state = typedArg<int32_t>(info, 0, "state");
  auto times = float64Arg(info, 1, "times");
  auto arena = typedArg<uint8_t>(info, 2, "arena");
  auto inData = typedArg<uint8_t>(info, 3, "inData");
  auto inOffs = typedArg<uint32_t>(info, 4, "inOffsets");
  auto inLens = typedArg<uint32_t>(info, 5, "inLengths");
  uint64_t start = uintArg(info, 6, "start", 0xffffffffu);
  uint64_t end = uintArg(info, 7, "end", 0xffffffffu);
  if (!info[8].IsNumber()) throw Napi::TypeError::New(env, "now must be a number");
  double now = info[8].As<Napi::Number>().DoubleValue();
  auto outData = typedArg<uint8_t>(info, 9, "outData");
  auto outOffs = typedArg<uint32_t>(info, 10, "outOffsets");
  auto outLens = typedArg<uint32_t>(info, 11, "outLengths");
  uint64_t outCount = uintArg(info, 12, "outCount", 0xffffffffu);
  uint64_t outUsed = uintArg(info, 13, "outUsed", 0xffffffffu);
  uint64_t outCap = uintArg(info, 14, "outCapacity", 0xffffffffu);
  uint64_t align = uintArg(info, 15, "align", 64);
  auto meta = typedArg<int32_t>(info, 16, "meta");
  if (!info[17].IsTypedArray() || info[17].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) throw Napi::TypeError::New(env, "res has the wrong type");
  auto res = info[17].As<Napi::Float64Array>();

  Gro g = openState(env, state, times, arena);
  // Input: every packet inside the data before anything is read.
  if (start > end || end > inOffs.ElementLength() || end > inLens.ElementLength()) throw Napi::RangeError::New(env, "input range exceeds the offsets or lengths arrays");
  const uint8_t* in = inData.Data();
  const uint64_t inSize = inData.ElementLength();
  const uint32_t* io = inOffs.Data();
  const uint32_t* il = inLens.Data();
  for (uint64_t i = start; i < end; i++) {
    if (static_cast<uint64_t>(io[i]) + il[i] > inSize) throw Napi::RangeError::New(env, "packet " + std::to_string(i) + " lies outside the batch data");
  }
  // Output.
  if (align < 1 || (align & (align - 1)) != 0) throw Napi::RangeError::New(env, "align must be a power of two");
  if (outCap > outOffs.ElementLength() || outCap > outLens.ElementLength() || outCount > outCap || outUsed > outData.ElementLength()) {
    throw Napi::RangeError::New(env, "output counters exceed the output arrays");
  }
  if (meta.ElementLength() < outCap * META_STRIDE) throw Napi::RangeError::New(env, "metadata lane shorter than the output capacity");
  if (res.ElementLength() < 2) throw Napi::RangeError::New(env, "res needs 2 entries");

  Out out{outData.Data(), outData.ElementLength(), outOffs.Data(), outLens.Data(), static_cast<uint32_t>(outCount), static_cast<uint32_t>(outCap), outUsed, align - 1, meta.Data()};
  g.begin(in, io, il, end);
  int32_t* st = g.st;
  const int32_t cfg = st[C_CFG];
  const bool verify = (cfg & CFG_VERIFY) != 0;
  uint64_t i = start;
  try {
    for (; i < end; i++) {
      const uint8_t* d = in + io[i];
      uint32_t len = il[i];
      // The headers of a packet a few ahead: by the time it is parsed they are in cache (a hint only).
      if (i + 3 < end) {
        __builtin_prefetch(in + io[i + 3]);
        __builtin_prefetch(in + io[i + 3] + 63);
      }
      if (cfg & CFG_PASSTHROUGH) {
        if (!out.fits(1, len)) break;
        out.emit(d, len, 0, GSO_NONE, 0, 1, 0, 0, 0);
        st[C_STAT_PASSED]++;
        continue;
      }
      if (!verify && g.fast(static_cast<int32_t>(i), d, len, out, cfg)) continue;
      if (!g.one(static_cast<int32_t>(i), d, len, now, out, cfg, verify)) break;
    }
    g.materialize();
  } catch (const Corrupt& c) {
    throw Napi::RangeError::New(env, std::string("GRO state corrupt: ") + c.what);
  }
  res[0] = out.count;
  res[1] = static_cast<double>(out.used);
  return Napi::Number::New(env, static_cast<double>(i));
}


// Flushes held flows, oldest first, whose arrival time is <= olderThan, while the output has room.
Napi::Value GroFlush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto state = typedArg<int32_t>(info, 0, "state");
  auto times = float64Arg(info, 1, "times");
  auto arena = typedArg<uint8_t>(info, 2, "arena");
  if (!info[3].IsNumber()) throw Napi::TypeError::New(env, "olderThan must be a number");
  double olderThan = info[3].As<Napi::Number>().DoubleValue();
  auto outData = typedArg<uint8_t>(info, 4, "outData");
  auto outOffs = typedArg<uint32_t>(info, 5, "outOffsets");
  auto outLens = typedArg<uint32_t>(info, 6, "outLengths");
  uint64_t outCount = uintArg(info, 7, "outCount", 0xffffffffu);
  uint64_t outUsed = uintArg(info, 8, "outUsed", 0xffffffffu);
  uint64_t outCap = uintArg(info, 9, "outCapacity", 0xffffffffu);
  uint64_t align = uintArg(info, 10, "align", 64);
  auto meta = typedArg<int32_t>(info, 11, "meta");
  auto res = float64Arg(info, 12, "res");
  Gro g = openState(env, state, times, arena);
  if (align < 1 || (align & (align - 1)) != 0) throw Napi::RangeError::New(env, "align must be a power of two");
  if (outCap > outOffs.ElementLength() || outCap > outLens.ElementLength() || outCount > outCap || outUsed > outData.ElementLength()) {
    throw Napi::RangeError::New(env, "output counters exceed the output arrays");
  }
  if (meta.ElementLength() < outCap * META_STRIDE) throw Napi::RangeError::New(env, "metadata lane shorter than the output capacity");
  if (res.ElementLength() < 2) throw Napi::RangeError::New(env, "res needs 2 entries");
  Out out{outData.Data(), outData.ElementLength(), outOffs.Data(), outLens.Data(), static_cast<uint32_t>(outCount), static_cast<uint32_t>(outCap), outUsed, align - 1, meta.Data()};
  uint32_t k = 0;
  g.begin(nullptr, nullptr, nullptr, 0);
  try {
    for (;;) {
      int32_t s = g.st[C_LRU_HEAD];
      if (s < 0) break;
      int32_t* m = g.held(s);
      if (!(g.times[s] <= olderThan)) break;
      if (!out.fits(1, static_cast<uint32_t>(m[M_FRAMELEN]))) break;
      g.flushSlot(s, out);
      k++;
    }
  } catch (const Corrupt& c) {
    throw Napi::RangeError::New(env, std::string("GRO state corrupt: ") + c.what);
  }
  res[0] = out.count;
  res[1] = static_cast<double>(out.used);
  return Napi::Number::New(env, k);
}

// ---- GSO ----
constexpr int32_t GSO_CFG_UDP = 1, GSO_CFG_FIXED_ID = 2, GSO_CFG_PASSTHROUGH = 4;
constexpr int GSO_OK = 0, GSO_ERR_MALFORMED = 1, GSO_ERR_UNSUPPORTED = 2;

inline bool isIpv6Ext(uint32_t nh) { return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 50 || nh == 135 || nh == 139 || nh == 140; }

// Returns GSO_OK, an error code, or -1 when the output cannot take all of this frame's segments.
int gsoFrame(const uint8_t* d, uint32_t len, uint32_t mss, int32_t cfg, Out& out) {
  auto copyWhole = [&]() -> int {
    if (!out.fits(1, len)) return -1;
    uint64_t o = out.reserve(len);
    std::memcpy(out.data + o, d, len);
    return GSO_OK;
  };
  if (cfg & GSO_CFG_PASSTHROUGH) return copyWhole();
  uint32_t l2 = l2Length(d, len);
  if (l2 == 0) return copyWhole();
  uint32_t et = be16(d + l2 - 2);
  const uint8_t* ip = d + l2;
  int ipv;
  uint32_t proto, l4, l3end, frag = 0;
  if (et == 0x0800) {
    if (len < l2 + 20 || (ip[0] >> 4) != 4) return GSO_ERR_MALFORMED;
    uint32_t ihl = (ip[0] & 15) * 4, tot = be16(ip + 2);
    if (ihl < 20 || tot < ihl || l2 + tot > len) return GSO_ERR_MALFORMED;
    proto = ip[9];
    l4 = l2 + ihl;
    l3end = l2 + tot;
    frag = be16(ip + 6) & 0x3fff;
    ipv = 4;
  } else if (et == 0x86dd) {
    if (len < l2 + 40 || (ip[0] >> 4) != 6) return GSO_ERR_MALFORMED;
    uint32_t plen = be16(ip + 4);
    if (l2 + 40 + plen > len) return GSO_ERR_MALFORMED;
    l3end = l2 + 40 + plen;
    ipv = 6;
    int64_t u = ipv6Upper(d, l2, l3end);
    if (u < 0) return plen > mss ? GSO_ERR_MALFORMED : copyWhole();
    proto = static_cast<uint32_t>(u & 0xff);
    l4 = static_cast<uint32_t>(u >> 8);
    if (isIpv6Ext(proto)) {
      if (plen > mss) return GSO_ERR_UNSUPPORTED;
      return copyWhole();
    }
  } else {
    return copyWhole();
  }
  if (proto != 6 && !(proto == 17 && (cfg & GSO_CFG_UDP))) return copyWhole();
  uint32_t hdr;
  if (proto == 6) {
    if (l3end < l4 + 20) return GSO_ERR_MALFORMED;
    uint32_t thl = (d[l4 + 12] >> 4) * 4;
    if (thl < 20 || l4 + thl > l3end) return GSO_ERR_MALFORMED;
    hdr = l4 + thl;
  } else {
    if (l3end < l4 + 8 || be16(d + l4 + 4) != l3end - l4) return GSO_ERR_MALFORMED;
    hdr = l4 + 8;
  }
  uint32_t payload = l3end - hdr;
  if (payload <= mss) return copyWhole();
  if (frag) return GSO_ERR_UNSUPPORTED;
  uint32_t nseg = (payload + mss - 1) / mss;
  if (!out.fits(nseg, static_cast<uint64_t>(nseg) * hdr + payload)) return -1;

  uint32_t addrSum;
  if (ipv == 4) {
    addrSum = sumBytes(ip + 12, 8);
  } else {
    int64_t dst = ipv6PseudoDst(d, l2, l4);
    if (dst < 0) return GSO_ERR_UNSUPPORTED;
    addrSum = sumBytes(ip + 8, 16) + sumBytes(d + dst, 16);
  }
  uint32_t ihl = l4 - l2;
  uint32_t id0 = ipv == 4 ? be16(ip + 4) : 0;
  uint32_t seq0 = proto == 6 ? be32(d + l4 + 4) : 0;
  uint8_t flags0 = proto == 6 ? d[l4 + 13] : 0;
  bool udpZero = proto == 17 && ipv == 4 && be16(d + l4 + 6) == 0;
  uint32_t pos = hdr;
  for (uint32_t i = 0; i < nseg; i++) {
    uint32_t n = i == nseg - 1 ? payload - i * mss : mss;
    uint8_t* o = out.data + out.reserve(hdr + n);
    std::memcpy(o, d, hdr);
    uint32_t payloadSum = checksumCopySum16(o + hdr, d + pos, n);
    uint32_t l3len = hdr - l2 + n;
    uint8_t* ipo = o + l2;
    if (ipv == 4) {
      put16(ipo + 2, l3len);
      put16(ipo + 4, (cfg & GSO_CFG_FIXED_ID) ? id0 : ((id0 + i) & 0xffff));
      put16(ipo + 10, 0);
      put16(ipo + 10, ~fold(sumBytes(ipo, ihl)) & 0xffff);
    } else {
      put16(ipo + 4, l3len - 40);
    }
    uint8_t* t = o + l4;
    uint32_t l4len = hdr - l4 + n;
    uint8_t* ck;
    if (proto == 6) {
      uint32_t seq = seq0 + i * mss;
      t[4] = static_cast<uint8_t>(seq >> 24);
      t[5] = static_cast<uint8_t>(seq >> 16);
      t[6] = static_cast<uint8_t>(seq >> 8);
      t[7] = static_cast<uint8_t>(seq);
      uint8_t f = flags0;
      if (i != nseg - 1) f &= static_cast<uint8_t>(~0x09);
      if (i != 0) f &= static_cast<uint8_t>(~0x80);
      t[13] = f;
      ck = t + 16;
    } else {
      put16(t + 4, l4len);
      ck = t + 6;
    }
    put16(ck, 0);
    if (!udpZero) {
      uint32_t pseudo = addrSum + proto + (l4len >> 16) + (l4len & 0xffff);
      uint32_t s = pseudo + sumBytes(t, hdr - l4) + payloadSum;
      uint32_t c = ~fold(s) & 0xffff;
      if (c == 0 && proto == 17) c = 0xffff;
      put16(ck, c);
    }
    pos += n;
  }
  return GSO_OK;
}

Napi::Value GsoBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto inData = typedArg<uint8_t>(info, 0, "inData");
  auto inOffs = typedArg<uint32_t>(info, 1, "inOffsets");
  auto inLens = typedArg<uint32_t>(info, 2, "inLengths");
  uint64_t start = uintArg(info, 3, "start", 0xffffffffu);
  uint64_t end = uintArg(info, 4, "end", 0xffffffffu);
  uint64_t mss = uintArg(info, 5, "mss", 65535);
  uint64_t cfg = uintArg(info, 6, "cfg", 0xff);
  auto outData = typedArg<uint8_t>(info, 7, "outData");
  auto outOffs = typedArg<uint32_t>(info, 8, "outOffsets");
  auto outLens = typedArg<uint32_t>(info, 9, "outLengths");
  uint64_t outCount = uintArg(info, 10, "outCount", 0xffffffffu);
  uint64_t outUsed = uintArg(info, 11, "outUsed", 0xffffffffu);
  uint64_t outCap = uintArg(info, 12, "outCapacity", 0xffffffffu);
  uint64_t align = uintArg(info, 13, "align", 64);
  if (!info[14].IsTypedArray() || info[14].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) throw Napi::TypeError::New(env, "res has the wrong type");
  auto res = info[14].As<Napi::Float64Array>();
  if (mss < 1) throw Napi::RangeError::New(env, "mss must be at least 1");
  if (start > end || end > inOffs.ElementLength() || end > inLens.ElementLength()) throw Napi::RangeError::New(env, "input range exceeds the offsets or lengths arrays");
  const uint8_t* in = inData.Data();
  const uint64_t inSize = inData.ElementLength();
  const uint32_t* io = inOffs.Data();
  const uint32_t* il = inLens.Data();
  for (uint64_t i = start; i < end; i++) {
    if (static_cast<uint64_t>(io[i]) + il[i] > inSize) throw Napi::RangeError::New(env, "packet " + std::to_string(i) + " lies outside the batch data");
  }
  if (align < 1 || (align & (align - 1)) != 0) throw Napi::RangeError::New(env, "align must be a power of two");
  if (outCap > outOffs.ElementLength() || outCap > outLens.ElementLength() || outCount > outCap || outUsed > outData.ElementLength()) {
    throw Napi::RangeError::New(env, "output counters exceed the output arrays");
  }
  if (res.ElementLength() < 4) throw Napi::RangeError::New(env, "res needs 4 entries");
  Out out{outData.Data(), outData.ElementLength(), outOffs.Data(), outLens.Data(), static_cast<uint32_t>(outCount), static_cast<uint32_t>(outCap), outUsed, align - 1, nullptr};
  uint64_t i = start;
  int err = GSO_OK;
  for (; i < end; i++) {
    int r = gsoFrame(in + io[i], il[i], static_cast<uint32_t>(mss), static_cast<int32_t>(cfg), out);
    if (r == -1) break;
    if (r != GSO_OK) {
      err = r;
      break;
    }
  }
  res[0] = out.count;
  res[1] = static_cast<double>(out.used);
  res[2] = err;
  res[3] = 0;
  return Napi::Number::New(env, static_cast<double>(i));
}

}  // namespace

void registerOffload(Napi::Env env, Napi::Object exports) {
  exports.Set("groBatch", Napi::Function::New(env, GroBatch));
  exports.Set("groFlush", Napi::Function::New(env, GroFlush));
  exports.Set("gsoBatch", Napi::Function::New(env, GsoBatch));
}

}  // namespace elysia
