/**
 * BpfProgramBuilder — the guide's canned packet filters, compiled to eBPF that returns 1 (match) or 0:
 *
 *   new BpfProgramBuilder('web').tcpDstPort(80).build()
 *   new BpfProgramBuilder('syn').tcpSynFilter().build()
 *   new BpfProgramBuilder('dns-or-web').or((b) => b.udpDstPort(53), (b) => b.tcpDstPort(80)).build()
 *
 * Predicates added one after another must all hold (and). Frames are Ethernet II without VLAN tags; IPv4
 * (any IHL, L4 fields only in the first fragment, as tcpdump) and IPv6 (fixed header: the next header must be
 * the protocol itself). Each predicate means exactly what the tcpdump expression in its doc comment means,
 * and the tests hold it to that on real captures.
 *
 * Generated code: r6 = packet, r7 = length; every load is preceded by a length check (so the verifier proves
 * fixed-offset loads in bounds and a short packet simply does not match).
 */
import { NetworkError } from '../errors.js';
import { bpfInsn, type BpfInsn } from './isa.js';
import { BpfProgram } from './program.js';

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

/** The predicate tree a filter builder holds (what and/or/not nest). */
export type BpfFilterNode =
  | { k: 'ethertype'; type: number }
  | { k: 'ipproto'; proto: number }
  | { k: 'port'; proto: 6 | 17; dir: 'src' | 'dst'; port: number }
  | { k: 'host'; dir: 'src' | 'dst'; v6: boolean; addr: Uint8Array }
  | { k: 'syn' }
  | { k: 'and'; nodes: BpfFilterNode[] }
  | { k: 'or'; nodes: BpfFilterNode[] }
  | { k: 'not'; node: BpfFilterNode };

/** A filter under construction; `BpfProgramBuilder` adds build(). Used for the arguments of and/or/not. */
export class BpfFilterBuilder {
  /** The predicates added so far (all must hold). */
  protected readonly nodes: BpfFilterNode[] = [];

  private add(n: BpfFilterNode): this {
    this.nodes.push(n);
    return this;
  }

  /** EtherType equals `type` (tcpdump `ether proto TYPE`). */
  etherType(type: number): this {
    checkInt(type, 0, 0xffff, 'etherType');
    return this.add({ k: 'ethertype', type });
  }

  /** IPv4 protocol or IPv6 next header equals `proto` (tcpdump `ip proto P or ip6 proto P`). */
  ipProto(proto: number): this {
    checkInt(proto, 0, 255, 'ipProto');
    return this.add({ k: 'ipproto', proto });
  }

  /** TCP destination port (tcpdump `tcp dst port P`). */
  tcpDstPort(port: number): this {
    checkInt(port, 0, 0xffff, 'port');
    return this.add({ k: 'port', proto: 6, dir: 'dst', port });
  }

  /** TCP source port (tcpdump `tcp src port P`). */
  tcpSrcPort(port: number): this {
    checkInt(port, 0, 0xffff, 'port');
    return this.add({ k: 'port', proto: 6, dir: 'src', port });
  }

  /** UDP destination port (tcpdump `udp dst port P`). */
  udpDstPort(port: number): this {
    checkInt(port, 0, 0xffff, 'port');
    return this.add({ k: 'port', proto: 17, dir: 'dst', port });
  }

  /** UDP source port (tcpdump `udp src port P`). */
  udpSrcPort(port: number): this {
    checkInt(port, 0, 0xffff, 'port');
    return this.add({ k: 'port', proto: 17, dir: 'src', port });
  }

  /** IPv4 or IPv6 source address (tcpdump `ip src host A` / `ip6 src host A`). */
  srcHost(address: string): this {
    return this.add({ k: 'host', dir: 'src', ...parseAddress(address) });
  }

  /** IPv4 or IPv6 destination address (tcpdump `ip dst host A` / `ip6 dst host A`). */
  dstHost(address: string): this {
    return this.add({ k: 'host', dir: 'dst', ...parseAddress(address) });
  }

  /**
   * A TCP connection attempt: SYN set, ACK clear, in IPv4 (first fragment) or IPv6 (tcpdump
   * `tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn`, extended to IPv6).
   */
  tcpSynFilter(): this {
    return this.add({ k: 'syn' });
  }

  /** All of the given filters hold. */
  and(...parts: BpfFilterPart[]): this {
    return this.add({ k: 'and', nodes: parts.map(partNode) });
  }

  /** At least one of the given filters holds. */
  or(...parts: BpfFilterPart[]): this {
    if (parts.length === 0) throw new NetworkError('INVALID_ARGUMENT', 'or() needs at least one filter', { field: 'or' });
    return this.add({ k: 'or', nodes: parts.map(partNode) });
  }

  /** The given filter does not hold. */
  not(part: BpfFilterPart): this {
    return this.add({ k: 'not', node: partNode(part) });
  }

  /** @internal the predicate tree. */
  get tree(): BpfFilterNode {
    return { k: 'and', nodes: this.nodes.slice() };
  }
}

/** An argument of and/or/not: a builder, or a function that adds predicates to a fresh one. */
export type BpfFilterPart = BpfFilterBuilder | ((b: BpfFilterBuilder) => BpfFilterBuilder);

function partNode(p: BpfFilterPart): BpfFilterNode {
  return (typeof p === 'function' ? p(new BpfFilterBuilder()) : p).tree;
}

function checkInt(v: number, lo: number, hi: number, field: string): void {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new NetworkError('INVALID_ARGUMENT', `${field} ${v} is not an integer in ${lo}..${hi}`, { field, actual: v });
  }
}

function parseAddress(s: string): { v6: boolean; addr: Uint8Array } {
  const bad = () => new NetworkError('INVALID_ARGUMENT', `'${s}' is not an IPv4 or IPv6 address`, { field: 'address', actual: s });
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.').map(Number);
    if (parts.some((p) => p > 255)) throw bad();
    return { v6: false, addr: new Uint8Array(parts) };
  }
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) throw bad();
  const halves = s.split('::');
  if (halves.length > 2) throw bad();
  const words = (h: string): number[] => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (g.includes('.')) {
        const v4 = parseAddress(g).addr;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 2 ? fill < 1 : fill !== 0)) throw bad();
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const addr = new Uint8Array(16);
  all.forEach((w, i) => {
    addr[2 * i] = w >> 8;
    addr[2 * i + 1] = w & 0xff;
  });
  return { v6: true, addr };
}

// ---- code generation ----

/** A jump waiting for its label. */
interface Fix {
  at: number;
  label: number;
}

class Gen {
  readonly out: BpfInsn[] = [];
  private readonly labels: number[] = [];
  private readonly fixes: Fix[] = [];

  label(): number {
    this.labels.push(-1);
    return this.labels.length - 1;
  }
  place(l: number): void {
    this.labels[l] = this.out.length;
  }
  e(op: number, dst = 0, src = 0, off = 0, imm = 0): void {
    this.out.push(bpfInsn(op, dst, src, off, imm));
  }
  /** Conditional/unconditional jump to a label. */
  j(op: number, dst: number, src: number, imm: number, l: number): void {
    this.fixes.push({ at: this.out.length, label: l });
    this.e(op, dst, src, 0, imm);
  }
  finish(): BpfInsn[] {
    for (const f of this.fixes) {
      const rel = this.labels[f.label]! - f.at - 1;
      if (rel > 0x7fff) throw new NetworkError('UNSUPPORTED', 'filter too large', {});
      this.out[f.at] = { ...this.out[f.at]!, off: rel };
    }
    return this.out;
  }
}

const PKT = 6;
const LEN = 7;
const OFF = 8; // IPv4 header length (bytes)
const T = 0; // scratch (r0 is set at the end anyway)
const T2 = 3;

// Opcodes.
const JNE_K = 0x55, JEQ_K = 0x15, JLT_K = 0xa5, JGT_X = 0x2d, JSET_K = 0x45, JA = 0x05;

/** Loads `size` bytes at fixed offset `off` (big-endian into T) or jumps to `fail` when the packet is shorter. */
function loadAbs(g: Gen, off: number, size: 1 | 2 | 4, fail: number): void {
  g.j(JLT_K, LEN, 0, off + size, fail);
  g.e(size === 1 ? 0x71 : size === 2 ? 0x69 : 0x61, T, PKT, off);
  if (size > 1) g.e(0xdc, T, 0, 0, size * 8); // be16/be32: network order to host
}

/** Falls through when the node holds, jumps to `fail` otherwise. */
function emit(g: Gen, n: BpfFilterNode, fail: number): void {
  switch (n.k) {
    case 'and':
      for (const c of n.nodes) emit(g, c, fail);
      return;
    case 'or': {
      const ok = g.label();
      n.nodes.forEach((c, i) => {
        const next = i === n.nodes.length - 1 ? fail : g.label();
        emit(g, c, next);
        g.j(JA, 0, 0, 0, ok);
        if (next !== fail) g.place(next);
      });
      g.place(ok);
      return;
    }
    case 'not': {
      const inner = g.label();
      emit(g, n.node, inner);
      g.j(JA, 0, 0, 0, fail);
      g.place(inner);
      return;
    }
    case 'ethertype':
      loadAbs(g, 12, 2, fail);
      g.j(JNE_K, T, 0, n.type, fail);
      return;
    case 'ipproto':
      l4Dispatch(g, n.proto, fail, false, () => {}, () => {});
      return;
    case 'port': {
      const at = n.dir === 'src' ? 0 : 2;
      l4Dispatch(
        g,
        n.proto,
        fail,
        true,
        () => {
          l4Load(g, at, 2, fail);
          g.j(JNE_K, T, 0, n.port, fail);
        },
        () => {
          loadAbs(g, 14 + 40 + at, 2, fail);
          g.j(JNE_K, T, 0, n.port, fail);
        },
      );
      return;
    }
    case 'syn':
      l4Dispatch(
        g,
        6,
        fail,
        true,
        () => {
          l4Load(g, 13, 1, fail);
          g.e(0x57, T, 0, 0, 0x12); // and r0, SYN|ACK
          g.j(JNE_K, T, 0, 0x02, fail);
        },
        () => {
          loadAbs(g, 14 + 40 + 13, 1, fail);
          g.e(0x57, T, 0, 0, 0x12);
          g.j(JNE_K, T, 0, 0x02, fail);
        },
      );
      return;
    case 'host': {
      loadAbs(g, 12, 2, fail);
      g.j(JNE_K, T, 0, n.v6 ? ETH_IPV6 : ETH_IPV4, fail);
      const base = n.v6 ? 14 + (n.dir === 'src' ? 8 : 24) : 14 + (n.dir === 'src' ? 12 : 16);
      for (let i = 0; i < n.addr.length; i += 4) {
        loadAbs(g, base + i, 4, fail);
        const w = ((n.addr[i]! << 24) | (n.addr[i + 1]! << 16) | (n.addr[i + 2]! << 8) | n.addr[i + 3]!) >>> 0;
        g.j(0x56, T, 0, w | 0, fail); // jne32: compare the 32-bit word
      }
      return;
    }
  }
}

/**
 * IPv4 with protocol `proto` (and, when `needsL4`, not a later fragment) or IPv6
 * with next header `proto`; runs `v4`/`v6` in the matching branch.
 */
function l4Dispatch(g: Gen, proto: number, fail: number, needsL4: boolean, v4: () => void, v6: () => void): void {
  const isV6 = g.label();
  const ok = g.label();
  loadAbs(g, 12, 2, fail);
  g.j(JNE_K, T, 0, ETH_IPV4, isV6);
  loadAbs(g, 14 + 9, 1, fail);
  g.j(JNE_K, T, 0, proto, fail);
  if (needsL4) {
    // Transport fields exist only in the first fragment (fragment offset 0), as tcpdump checks.
    loadAbs(g, 14 + 6, 2, fail);
    g.j(JSET_K, T, 0, 0x1fff, fail);
  }
  v4();
  g.j(JA, 0, 0, 0, ok);
  g.place(isV6);
  g.j(JNE_K, T, 0, ETH_IPV6, fail);
  loadAbs(g, 14 + 6, 1, fail);
  g.j(JNE_K, T, 0, proto, fail);
  v6();
  g.place(ok);
}

/** Loads `size` bytes at `at` into the IPv4 payload (after IHL·4 header bytes) or jumps to fail. */
function l4Load(g: Gen, at: number, size: 1 | 2, fail: number): void {
  // r8 = IHL · 4; r3 = 14 + r8 + at + size must be ≤ length.
  loadAbs(g, 14, 1, fail);
  g.e(0xbf, OFF, T);
  g.e(0x57, OFF, 0, 0, 0xf);
  g.e(0x67, OFF, 0, 0, 2);
  g.e(0xbf, T2, OFF);
  g.e(0x07, T2, 0, 0, 14 + at + size);
  g.j(JGT_X, T2, LEN, 0, fail);
  g.e(0xbf, T2, PKT);
  g.e(0x0f, T2, OFF);
  g.e(size === 1 ? 0x71 : 0x69, T, T2, 14 + at);
  if (size === 2) g.e(0xdc, T, 0, 0, 16);
}

/** Builds canned filters into a BpfProgram (the guide's `BpfProgramBuilder(name)`). */
export class BpfProgramBuilder extends BpfFilterBuilder {
  constructor(readonly name = 'filter') {
    super();
  }

  /** The program: returns 1 when every predicate holds (an empty builder matches everything), else 0. */
  build(): BpfProgram {
    return new BpfProgram(this.instructions(), { name: this.name });
  }

  /** The instruction slots build() uses. */
  instructions(): BpfInsn[] {
    const g = new Gen();
    const fail = g.label();
    g.e(0xbf, PKT, 1); // mov r6, r1
    g.e(0xbf, LEN, 2); // mov r7, r2 (the verifier tracks it as the packet length)
    emit(g, this.tree, fail);
    g.e(0xb7, 0, 0, 0, 1);
    g.e(0x95);
    g.place(fail);
    g.e(0xb7, 0, 0, 0, 0);
    g.e(0x95);
    return g.finish();
  }
}
