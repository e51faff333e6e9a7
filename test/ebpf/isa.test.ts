// RFC 9669 encoding: byte layout, encode/decode round trip (fast-check), field validation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BPF_LDDW_OPCODE,
  bpfInsn,
  bpfInsnProblem,
  bpfLddw,
  bpfLddwSecondSlots,
  bpfLddwValue,
  decodeInsnU64,
  decodeInsns,
  encodeInsnU64,
  encodeInsns,
  findBpfInsnProblem,
  isNetworkError,
  type BpfInsn,
} from '../../src/index.js';

const insnArb = fc.record({
  opcode: fc.integer({ min: 0, max: 255 }),
  dst: fc.integer({ min: 0, max: 15 }),
  src: fc.integer({ min: 0, max: 15 }),
  off: fc.integer({ min: -0x8000, max: 0x7fff }),
  imm: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
});

describe('isa encode/decode', () => {
  it('lays out opcode, dst (low nibble), src (high nibble), off and imm little-endian (RFC 9669 §3)', () => {
    const bytes = encodeInsns([bpfInsn(0x18, 3, 1, -2, 0x55667788)]);
    expect([...bytes]).toEqual([0x18, 0x13, 0xfe, 0xff, 0x88, 0x77, 0x66, 0x55]);
    expect(decodeInsnU64(0x5566778800000018n)).toEqual({ opcode: 0x18, dst: 0, src: 0, off: 0, imm: 0x55667788 });
    expect(encodeInsnU64(bpfInsn(0x95))).toBe(0x95n);
  });

  it('round-trips any slot (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(insnArb, { maxLength: 20 }), (insns: BpfInsn[]) => {
        expect(decodeInsns(encodeInsns(insns))).toEqual(insns);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }).map((b) => b.subarray(0, b.length - (b.length % 8))), (bytes) => {
        expect(encodeInsns(decodeInsns(bytes))).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a length that is not a multiple of 8 and out-of-range fields', () => {
    try {
      decodeInsns(new Uint8Array(12));
      expect.unreachable();
    } catch (e) {
      expect(isNetworkError(e, 'PARSE_ERROR')).toBe(true);
    }
    expect(() => encodeInsns([{ opcode: 256, dst: 0, src: 0, off: 0, imm: 0 }])).toThrow(/opcode/);
    expect(() => encodeInsns([{ opcode: 0, dst: 16, src: 0, off: 0, imm: 0 }])).toThrow(/dst/);
    expect(() => encodeInsns([{ opcode: 0, dst: 0, src: 0, off: 0, imm: 2 ** 32 }])).toThrow(/imm/);
  });

  it('splits and joins 64-bit immediates over two slots', () => {
    const [a, b] = bpfLddw(2, 0x1122334455667788n);
    expect(a).toEqual({ opcode: BPF_LDDW_OPCODE, dst: 2, src: 0, off: 0, imm: 0x55667788 });
    expect(b).toEqual({ opcode: 0, dst: 0, src: 0, off: 0, imm: 0x11223344 });
    expect(bpfLddwValue([a, b], 0)).toBe(0x1122334455667788n);
    expect(bpfLddwValue(bpfLddw(0, -1n), 0)).toBe(0xffffffffffffffffn);
    expect([...bpfLddwSecondSlots([bpfInsn(0x95), a, b, bpfInsn(0x95)])]).toEqual([0, 0, 1, 0]);
  });
});

describe('isa validation (reserved fields must be zero, RFC 9669 §3)', () => {
  const ok = (insns: BpfInsn[]) => expect(bpfInsnProblem(insns, 0)).toBeNull();
  const bad = (insns: BpfInsn[], re: RegExp) => expect(bpfInsnProblem(insns, 0)).toMatch(re);

  it('accepts every instruction family', () => {
    ok([bpfInsn(0x07, 1, 0, 0, 5)]); // add imm
    ok([bpfInsn(0x3f, 1, 2, 1)]); // sdiv reg
    ok([bpfInsn(0x9c, 1, 2, 1)]); // smod32 reg
    ok([bpfInsn(0xbf, 1, 2, 32)]); // movsx3264
    ok([bpfInsn(0xbc, 1, 2, 16)]); // movsx1632
    ok([bpfInsn(0xd7, 1, 0, 0, 64)]); // bswap64
    ok([bpfInsn(0xdc, 1, 0, 0, 16)]); // be16
    ok([bpfInsn(0x06, 0, 0, 0, -100)]); // ja32
    ok([bpfInsn(0x85, 0, 1, 0, 3)]); // call local
    ok([bpfInsn(0x8d, 2)]); // callx
    ok([bpfInsn(0x81, 1, 2, -4)]); // ldxsw
    ok([bpfInsn(0xdb, 10, 1, -8, 0xf1)]); // cmpxchg
    ok([bpfInsn(0xc3, 10, 1, -8, 0x41)]); // fetch or 32
    ok([bpfInsn(0x30, 0, 0, 0, 12)]); // ldabsb
    ok([bpfInsn(0x48, 0, 3, 0, 2)]); // ldindh
    for (let src = 0; src <= 6; src++) ok(bpfLddw(1, 5n, src));
  });

  it('names what is wrong', () => {
    bad([bpfInsn(0x07, 1, 3, 0, 5)], /reserved/);
    bad([bpfInsn(0x3f, 1, 2, 2)], /division offset/);
    bad([bpfInsn(0xbc, 1, 2, 32)], /movsx width/);
    bad([bpfInsn(0xdf, 1, 0, 0, 16)], /reserved/);
    bad([bpfInsn(0xd4, 1, 0, 0, 8)], /width/);
    bad([bpfInsn(0x95, 1)], /exit/);
    bad([bpfInsn(0x86)], /JMP32/);
    bad([bpfInsn(0x85, 0, 4)], /unknown src/);
    bad([bpfInsn(0x18, 1, 7)], /pseudo source/);
    bad([bpfInsn(0x18, 1, 0)], /second slot/);
    bad([bpfInsn(0x18, 1, 0), bpfInsn(0x95)], /second slot of lddw/);
    bad([bpfInsn(0x99, 1, 2)], /sign-extending load of 8/);
    bad([bpfInsn(0xd3, 10, 1, 0, 0)], /32 or 64/);
    bad([bpfInsn(0xdb, 10, 1, 0, 0x02)], /atomic operation/);
    bad([bpfInsn(0x07, 11)], /dst register/);
    bad([bpfInsn(0x0f, 1, 12)], /src register/);
    bad([bpfInsn(0x38)], /8 bytes/);
    expect(findBpfInsnProblem([bpfInsn(0x95), bpfInsn(0xff)])).toMatchObject({ pc: 1 });
    expect(findBpfInsnProblem([...bpfLddw(0, 1n), bpfInsn(0x95)])).toBeNull();
  });
});
