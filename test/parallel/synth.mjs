// Synthetic traffic for the engine tests and scripts/stress-rings.mjs: frames written byte by byte from
// known flow tuples (no use of the code under test), so the expected per-flow counts are known by construction.

/** A small deterministic PRNG (mulberry32). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * n flows: IPv4 and IPv6, TCP, UDP and ICMP, some behind an 802.1Q tag, some IPv6 with a hop-by-hop header.
 * Each: { v, proto, src, dst (byte arrays), sport, dport, vlan, ext }.
 */
export function makeFlows(n, seed = 1) {
  const rnd = prng(seed);
  const flows = [];
  for (let i = 0; i < n; i++) {
    const v = rnd() < 0.7 ? 4 : 6;
    const r = rnd();
    const proto = r < 0.45 ? 6 : r < 0.9 ? 17 : v === 4 ? 1 : 58;
    const alen = v === 4 ? 4 : 16;
    const src = Uint8Array.from({ length: alen }, () => Math.floor(rnd() * 256));
    const dst = Uint8Array.from({ length: alen }, () => Math.floor(rnd() * 256));
    if (v === 4) {
      src[0] = 10;
      dst[0] = 192;
    } else {
      src[0] = 0x20;
      src[1] = 0x01;
      dst[0] = 0xfd;
    }
    const hasPorts = proto === 6 || proto === 17;
    flows.push({
      v,
      proto,
      src,
      dst,
      sport: hasPorts ? 1024 + Math.floor(rnd() * 60000) : 0,
      dport: hasPorts ? [80, 443, 53, 8080][Math.floor(rnd() * 4)] : 0,
      vlan: rnd() < 0.2 ? 1 + Math.floor(rnd() * 4000) : -1,
      ext: v === 6 && rnd() < 0.3,
    });
  }
  return flows;
}

/** The reverse direction of a flow. */
export function reverseFlow(f) {
  return { ...f, src: f.dst, dst: f.src, sport: f.dport, dport: f.sport };
}

/** Bytes of headers a flow's frames carry. */
export function headerLength(f) {
  return 14 + (f.vlan >= 0 ? 4 : 0) + (f.v === 4 ? 20 : 40 + (f.ext ? 8 : 0)) + (f.proto === 6 ? 20 : 8);
}

/** Writes a frame of `len` bytes for flow f into out at off (len ≥ headerLength(f)). */
export function writeFrame(f, out, off, len, seq = 0) {
  out.fill(0, off, off + len);
  let p = off;
  out.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2], p);
  p += 12;
  if (f.vlan >= 0) {
    out[p] = 0x81;
    out[p + 1] = 0x00;
    out[p + 2] = (f.vlan >> 8) & 0x0f;
    out[p + 3] = f.vlan & 0xff;
    p += 4;
  }
  out[p] = f.v === 4 ? 0x08 : 0x86;
  out[p + 1] = f.v === 4 ? 0x00 : 0xdd;
  p += 2;
  const l3len = off + len - p;
  if (f.v === 4) {
    out[p] = 0x45;
    out[p + 2] = l3len >> 8;
    out[p + 3] = l3len & 0xff;
    out[p + 4] = (seq >> 8) & 0xff;
    out[p + 5] = seq & 0xff;
    out[p + 6] = 0x40; // DF
    out[p + 8] = 64;
    out[p + 9] = f.proto;
    out.set(f.src, p + 12);
    out.set(f.dst, p + 16);
    p += 20;
  } else {
    out[p] = 0x60;
    const pl = l3len - 40;
    out[p + 4] = pl >> 8;
    out[p + 5] = pl & 0xff;
    out[p + 6] = f.ext ? 0 : f.proto;
    out[p + 7] = 64;
    out.set(f.src, p + 8);
    out.set(f.dst, p + 24);
    p += 40;
    if (f.ext) {
      out[p] = f.proto; // hop-by-hop: next header, length 0 (8 bytes), PadN
      out[p + 2] = 1;
      out[p + 3] = 4;
      p += 8;
    }
  }
  out[p] = f.sport >> 8;
  out[p + 1] = f.sport & 0xff;
  out[p + 2] = f.dport >> 8;
  out[p + 3] = f.dport & 0xff;
  if (f.proto === 6) out[p + 12] = 0x50;
  return len;
}

/** A frame for flow f as its own array. */
export function frameFor(f, len = 64, seq = 0) {
  const n = Math.max(len, headerLength(f));
  const b = new Uint8Array(n);
  writeFrame(f, b, 0, n, seq);
  return b;
}

/** An ARP request frame (not IP). */
export function arpFrame() {
  const b = new Uint8Array(60);
  b.fill(0xff, 0, 6);
  b[12] = 0x08;
  b[13] = 0x06;
  return b;
}

/**
 * A traffic plan: `packets` picks of flow indices with skewed popularity (a few heavy flows), -1 = an ARP
 * frame now and then. Returns { order: Int32Array, counts: Float64Array per flow }.
 */
export function trafficPlan(flows, packets, seed = 7) {
  const rnd = prng(seed);
  const order = new Int32Array(packets);
  const counts = new Float64Array(flows.length);
  for (let i = 0; i < packets; i++) {
    if (rnd() < 0.01) {
      order[i] = -1;
      continue;
    }
    const u = rnd();
    const k = Math.min(flows.length - 1, Math.floor(u * u * flows.length));
    order[i] = k;
    counts[k]++;
  }
  return { order, counts };
}
