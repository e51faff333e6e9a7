// Hand-built pcap/pcapng bytes for the reader tests: every field explicit, either byte order.
export function u8(...parts: (number[] | Uint8Array)[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function u16(v: number, le: boolean): number[] {
  return le ? [v & 255, (v >> 8) & 255] : [(v >> 8) & 255, v & 255];
}

export function u32(v: number, le: boolean): number[] {
  const b = [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  return le ? b.reverse() : b;
}

export function pad4(b: Uint8Array | number[]): number[] {
  const a = Array.from(b);
  while (a.length % 4) a.push(0);
  return a;
}

export function option(code: number, value: number[] | Uint8Array, le: boolean): number[] {
  return [...u16(code, le), ...u16(value.length, le), ...pad4(value)];
}

export function ngBlock(type: number, body: number[] | Uint8Array, le: boolean): Uint8Array {
  const len = 12 + body.length;
  return u8(u32(type, le), u32(len, le), body, u32(len, le));
}

export function shb(le: boolean, opts: number[] = []): Uint8Array {
  return ngBlock(0x0a0d0d0a, [...u32(0x1a2b3c4d, le), ...u16(1, le), ...u16(0, le), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...opts], le);
}

export function idb(le: boolean, linktype: number, snaplen: number, opts: number[] = []): Uint8Array {
  const o = opts.length ? [...opts, 0, 0, 0, 0] : [];
  return ngBlock(1, [...u16(linktype, le), 0, 0, ...u32(snaplen, le), ...o], le);
}

export function epb(le: boolean, ifid: number, hi: number, lo: number, data: Uint8Array, orig = data.length): Uint8Array {
  return ngBlock(6, [...u32(ifid, le), ...u32(hi, le), ...u32(lo, le), ...u32(data.length, le), ...u32(orig, le), ...pad4(data)], le);
}

export function spb(le: boolean, orig: number, data: Uint8Array): Uint8Array {
  return ngBlock(3, [...u32(orig, le), ...pad4(data)], le);
}

export function opb(le: boolean, ifid: number, hi: number, lo: number, data: Uint8Array): Uint8Array {
  return ngBlock(2, [...u16(ifid, le), 0, 0, ...u32(hi, le), ...u32(lo, le), ...u32(data.length, le), ...u32(data.length, le), ...pad4(data)], le);
}

export function pcapHeader(le: boolean, nano: boolean, linktype: number, snaplen = 65535): Uint8Array {
  return u8(u32(nano ? 0xa1b23c4d : 0xa1b2c3d4, le), u16(2, le), u16(4, le), u32(0, le), u32(0, le), u32(snaplen, le), u32(linktype, le));
}

export function pcapRecord(le: boolean, sec: number, frac: number, data: Uint8Array, orig = data.length): Uint8Array {
  return u8(u32(sec, le), u32(frac, le), u32(data.length, le), u32(orig, le), data);
}

export function bytesOf(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 255;
  return b;
}
