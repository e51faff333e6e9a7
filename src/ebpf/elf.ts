/**
 * ELF loader for relocatable eBPF objects as `clang -O2 -g -target bpf -c prog.c` writes them (the subset of
 * libbpf's bpf_object__open that runs without a kernel):
 *
 * - programs: executable sections other than `.text` (`SEC("xdp/…")`), entry = the global function symbol;
 *   `.text` holds subprograms, appended after the program when it calls them (R_BPF_64_32 relocations,
 *   target = symbol offset / 8 + imm + 1 as in libbpf) — calls inside one section need no relocation;
 * - maps: legacy `maps` section (`struct bpf_map_def` {type, key_size, value_size, max_entries, map_flags}
 *   per symbol) and BTF-defined `.maps` (needs the `.BTF` section, i.e. `-g`); types hash, array, LRU hash;
 * - R_BPF_64_64 on `lddw`: a map symbol → `lddw src=1 (map fd)`, a symbol in `.data`/`.rodata*`/`.bss` →
 *   `lddw src=2 (map value)` into a one-entry array map holding that section (libbpf's global data);
 * - clear errors (NetworkError UNSUPPORTED) for externs (kconfig/ksym), CO-RE-only sections, callbacks
 *   (function pointers), unknown relocations or map types; PARSE_ERROR for malformed files. Every offset is
 *   checked before use.
 */
import { NetworkError } from '../errors.js';
import { BtfInfo, btfMapDefs } from './btf.js';
import { BPF_LDDW_OPCODE, BPF_PSEUDO_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, bpfInsn, decodeInsns, type BpfInsn } from './isa.js';
import { BpfMap, BPF_F_RDONLY_PROG, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH, bpfMapTypeName } from './maps.js';

const EM_BPF = 247;
const ET_REL = 1;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_NOBITS = 8;
const SHT_REL = 9;
const SHF_EXECINSTR = 0x4;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_SECTION = 3;
const STB_GLOBAL = 1;
const R_BPF_64_64 = 1;
const R_BPF_64_32 = 10;

/** An ELF section (header fields we use). */
export interface BpfElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

/** An ELF symbol. */
export interface BpfElfSymbol {
  name: string;
  type: number;
  bind: number;
  shndx: number;
  value: number;
  size: number;
}

/** A map definition found in the object. */
export interface BpfElfMapDef {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** 'maps' (legacy struct bpf_map_def), '.maps' (BTF) or the global-data section it stands for. */
  origin: string;
}

/** A program (entry function) of the object. */
export interface BpfElfProgramInfo {
  /** The function symbol's name. */
  name: string;
  /** The section it lives in (libbpf: its "SEC" name, e.g. `xdp/vlan`). */
  section: string;
  /** Instruction slots of the function. */
  size: number;
}

/** A global variable (symbol in .data/.rodata/.bss): which global-data map and where in its value. */
export interface BpfElfGlobal {
  map: string;
  offset: number;
  size: number;
}

/** What {@link loadBpfElf} returns: a ready program image and its maps (in index order). */
export interface BpfElfLoaded {
  name: string;
  section: string;
  insns: BpfInsn[];
  maps: BpfMap[];
  globals: Map<string, BpfElfGlobal>;
}

function parseError(why: string, detail: Record<string, unknown> = {}): NetworkError {
  return new NetworkError('PARSE_ERROR', `eBPF ELF: ${why}`, detail);
}
function unsupported(why: string, detail: Record<string, unknown> = {}): NetworkError {
  return new NetworkError('UNSUPPORTED', `eBPF ELF: ${why}`, detail);
}

function isGlobalData(name: string): boolean {
  return name === '.data' || name === '.bss' || name.startsWith('.rodata') || name.startsWith('.data.') || name.startsWith('.bss.');
}

/** A parsed relocatable eBPF object. */
export class BpfElfObject {
  readonly sections: BpfElfSection[] = [];
  readonly symbols: BpfElfSymbol[] = [];
  readonly maps: BpfElfMapDef[] = [];
  readonly programs: BpfElfProgramInfo[] = [];
  private readonly bytes: Uint8Array;
  private readonly dv: DataView;
  /** Symbol index → map index (map symbols) for R_BPF_64_64. */
  private readonly mapBySection = new Map<number, Map<number, number>>();
  /** Global-data section index → map index. */
  private readonly dataMaps = new Map<number, number>();

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.parseHeaders();
    this.findMaps();
    this.findPrograms();
  }

  private u16(o: number): number {
    this.need(o, 2);
    return this.dv.getUint16(o, true);
  }
  private u32(o: number): number {
    this.need(o, 4);
    return this.dv.getUint32(o, true);
  }
  private u64(o: number): number {
    this.need(o, 8);
    const v = this.dv.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw parseError(`64-bit field at ${o} is too large`, { offset: o });
    return Number(v);
  }
  private need(o: number, n: number): void {
    if (!Number.isSafeInteger(o) || o < 0 || o + n > this.bytes.length) {
      throw parseError(`offset ${o} (+${n}) is outside the ${this.bytes.length}-byte file`, { offset: o });
    }
  }
  /** Bytes of a section (NOBITS → zeros). */
  sectionData(s: BpfElfSection): Uint8Array {
    if (s.type === SHT_NOBITS) return new Uint8Array(s.size);
    this.need(s.offset, s.size);
    return this.bytes.subarray(s.offset, s.offset + s.size);
  }
  private cstr(tab: BpfElfSection, off: number): string {
    if (off >= tab.size) throw parseError(`string offset ${off} outside section ${tab.name || tab.index}`, { offset: off });
    const start = tab.offset + off;
    const end = tab.offset + tab.size;
    this.need(tab.offset, tab.size);
    let e = start;
    while (e < end && this.bytes[e] !== 0) e++;
    return new TextDecoder().decode(this.bytes.subarray(start, e));
  }

  private parseHeaders(): void {
    const b = this.bytes;
    if (b.length < 64 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) throw parseError('not an ELF file (bad magic)', { offset: 0 });
    if (b[4] !== 2) throw unsupported('only 64-bit ELF is supported', { field: 'EI_CLASS' });
    if (b[5] !== 1) throw unsupported('only little-endian ELF is supported (compile with -target bpf or bpfel)', { field: 'EI_DATA' });
    const type = this.u16(16);
    const machine = this.u16(18);
    if (machine !== EM_BPF) throw unsupported(`e_machine ${machine} is not BPF (247)`, { field: 'e_machine', actual: machine });
    if (type !== ET_REL) throw unsupported(`ELF type ${type} is not a relocatable object (clang -c)`, { field: 'e_type', actual: type });
    const shoff = this.u64(40);
    const shentsize = this.u16(58);
    let shnum = this.u16(60);
    let shstrndx = this.u16(62);
    if (shentsize !== 64) throw parseError(`section header size ${shentsize} is not 64`);
    if (shnum === 0 && shoff !== 0) shnum = this.u64(shoff + 32); // extended numbering: count in section 0's size
    if (shstrndx === 0xffff) shstrndx = this.u32(shoff + 40);
    if (shnum > 65536) throw parseError(`${shnum} sections is too many`);
    this.need(shoff, shnum * 64);
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * 64;
      this.sections.push({
        index: i,
        name: '',
        type: this.u32(o + 4),
        flags: this.u64(o + 8),
        offset: this.u64(o + 24),
        size: this.u64(o + 32),
        link: this.u32(o + 40),
        info: this.u32(o + 44),
        entsize: this.u64(o + 56),
      });
      const nameOff = this.u32(o);
      (this.sections[i] as { nameOff?: number }).nameOff = nameOff;
    }
    const shstr = this.sections[shstrndx];
    if (!shstr) throw parseError(`section-name table index ${shstrndx} does not exist`);
    for (const s of this.sections) {
      s.name = this.cstr(shstr, (s as { nameOff?: number }).nameOff ?? 0);
      delete (s as { nameOff?: number }).nameOff;
      if (s.type !== SHT_NOBITS && s.type !== 0) this.need(s.offset, s.size);
    }
    const symtab = this.sections.find((s) => s.type === SHT_SYMTAB);
    if (!symtab) throw parseError('no symbol table');
    const strtab = this.sections[symtab.link];
    if (!strtab) throw parseError('symbol table has no string table');
    if (symtab.size % 24 !== 0) throw parseError('symbol table size is not a multiple of 24');
    for (let o = symtab.offset; o < symtab.offset + symtab.size; o += 24) {
      const info = this.bytes[o + 4]!;
      this.symbols.push({
        name: this.cstr(strtab, this.u32(o)),
        type: info & 0xf,
        bind: info >> 4,
        shndx: this.u16(o + 6),
        value: this.u64(o + 8),
        size: this.u64(o + 16),
      });
    }
  }

  private section(name: string): BpfElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  private addMap(def: BpfElfMapDef, shndx: number, symIndex: number): void {
    if (def.type !== BPF_MAP_TYPE_HASH && def.type !== BPF_MAP_TYPE_ARRAY && def.type !== BPF_MAP_TYPE_LRU_HASH) {
      throw unsupported(`map ${def.name}: ${bpfMapTypeName(def.type)} maps are not supported (hash, array, lru_hash are)`, {
        field: 'type',
        actual: def.type,
      });
    }
    if (this.maps.some((m) => m.name === def.name)) throw parseError(`two maps named ${def.name}`);
    let bySym = this.mapBySection.get(shndx);
    if (!bySym) this.mapBySection.set(shndx, (bySym = new Map()));
    bySym.set(symIndex, this.maps.length);
    this.maps.push(def);
  }

  private findMaps(): void {
    // Legacy "maps" section: one struct bpf_map_def (≥ 16 bytes; map_flags at 16 when present) per symbol.
    for (const sec of this.sections) {
      if (sec.name !== 'maps' && !sec.name.startsWith('maps/')) continue;
      const data = this.sectionData(sec);
      const syms = this.symbols.map((s, i) => ({ s, i })).filter(({ s }) => s.shndx === sec.index && s.type !== STT_SECTION && s.name !== '');
      for (const { s, i } of syms) {
        const size = s.size || (syms.length ? Math.floor(data.length / syms.length) : 0);
        if (size < 16 || s.value + 16 > data.length) throw parseError(`legacy map ${s.name}: definition of ${size} bytes is too short`);
        const dv = new DataView(data.buffer, data.byteOffset + s.value, Math.min(size, data.length - s.value));
        this.addMap(
          {
            name: s.name,
            type: dv.getUint32(0, true),
            keySize: dv.getUint32(4, true),
            valueSize: dv.getUint32(8, true),
            maxEntries: dv.getUint32(12, true),
            flags: dv.byteLength >= 20 ? dv.getUint32(16, true) : 0,
            origin: 'maps',
          },
          sec.index,
          i,
        );
      }
    }
    // BTF-defined ".maps".
    const dotMaps = this.section('.maps');
    if (dotMaps) {
      const btfSec = this.section('.BTF');
      if (!btfSec) throw unsupported('the .maps section needs BTF type information: compile with -g', { field: '.BTF' });
      const defs = btfMapDefs(new BtfInfo(this.sectionData(btfSec)));
      for (const def of defs) {
        const i = this.symbols.findIndex((s) => s.shndx === dotMaps.index && s.name === def.name);
        if (i < 0) throw parseError(`BTF map ${def.name} has no symbol`);
        this.addMap({ name: def.name, type: def.type, keySize: def.keySize, valueSize: def.valueSize, maxEntries: def.maxEntries, flags: def.flags, origin: '.maps' }, dotMaps.index, i);
      }
    }
    // Global data: each .data/.rodata*/.bss section is a one-entry array map (libbpf's internal maps).
    for (const sec of this.sections) {
      if ((sec.type !== SHT_PROGBITS && sec.type !== SHT_NOBITS) || !isGlobalData(sec.name) || sec.size === 0) continue;
      this.dataMaps.set(sec.index, this.maps.length);
      this.maps.push({
        name: sec.name,
        type: BPF_MAP_TYPE_ARRAY,
        keySize: 4,
        valueSize: sec.size,
        maxEntries: 1,
        flags: sec.name.startsWith('.rodata') ? BPF_F_RDONLY_PROG : 0,
        origin: sec.name,
      });
    }
  }

  private findPrograms(): void {
    for (const sec of this.sections) {
      if (sec.type !== SHT_PROGBITS || (sec.flags & SHF_EXECINSTR) === 0 || sec.size === 0) continue;
      if (sec.size % 8 !== 0) throw parseError(`code section ${sec.name} size ${sec.size} is not a multiple of 8`);
      for (const s of this.symbols) {
        if (s.shndx !== sec.index || s.type !== STT_FUNC || s.bind !== STB_GLOBAL) continue;
        if (sec.name === '.text') continue; // .text functions are subprograms (libbpf: not programs)
        this.programs.push({ name: s.name, section: sec.name, size: Math.floor((s.size || sec.size - s.value) / 8) });
      }
    }
  }

  /**
   * Builds the image of one program: selected by section name or function name (default: the first).
   * `maps` lets several programs of one object share maps by name.
   */
  load(select?: string, options: { maps?: ReadonlyMap<string, BpfMap> } = {}): BpfElfLoaded {
    if (this.programs.length === 0) throw unsupported('the object has no program section (SEC("…") on a global function)');
    const prog = select === undefined ? this.programs[0] : this.programs.find((p) => p.section === select || p.name === select);
    if (!prog) {
      throw new NetworkError('INVALID_ARGUMENT', `eBPF ELF: no program '${select}' (have ${this.programs.map((p) => `${p.section}:${p.name}`).join(', ')})`, {
        field: 'section',
        actual: select,
      });
    }
    const sec = this.sections.find((s) => s.name === prog.section)!;
    const entry = this.symbols.find((s) => s.shndx === sec.index && s.name === prog.name && s.type === STT_FUNC)!;
    const code = decodeInsns(this.sectionData(sec));
    const insns: BpfInsn[] = [];
    // An entry that is not at the start of its section gets a jump to it, so pc 0 is the entry.
    const lead = entry.value === 0 ? 0 : 1;
    if (lead) insns.push(bpfInsn(0x05, 0, 0, entry.value / 8 - 0, 0));
    const base = insns.length;
    insns.push(...code);
    let textBase = -1;
    const text = this.section('.text');
    const applyRelocs = (s: BpfElfSection, at: number) => {
      for (const rs of this.sections) {
        if (rs.info !== s.index || (rs.type !== SHT_REL && rs.type !== SHT_RELA)) continue;
        if (rs.type === SHT_RELA) throw unsupported(`RELA relocations (${rs.name}) are not supported`);
        const data = this.sectionData(rs);
        const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
        for (let o = 0; o + 16 <= data.length; o += 16) {
          const off = Number(dv.getBigUint64(o, true));
          const info = dv.getBigUint64(o + 8, true);
          const symIdx = Number(info >> 32n);
          const rtype = Number(info & 0xffffffffn);
          const sym = this.symbols[symIdx];
          if (!sym) throw parseError(`relocation in ${rs.name} refers to symbol ${symIdx} which does not exist`);
          if (off % 8 !== 0 || off / 8 >= s.size / 8) throw parseError(`relocation offset ${off} outside ${s.name}`);
          const pc = at + off / 8;
          const insn = insns[pc]!;
          if (sym.shndx === 0) throw unsupported(`extern symbol '${sym.name}' (kconfig/ksym) is not supported`, { pc, field: sym.name });
          if (rtype === R_BPF_64_64) {
            if (insn.opcode !== BPF_LDDW_OPCODE) throw parseError(`R_BPF_64_64 at pc ${pc} is not on an lddw`, { pc });
            const mapIdx = this.mapBySection.get(sym.shndx)?.get(symIdx);
            if (mapIdx !== undefined) {
              insns[pc] = { ...insn, src: BPF_PSEUDO_MAP_FD, imm: mapIdx };
              continue;
            }
            const dataIdx = this.dataMaps.get(sym.shndx);
            if (dataIdx !== undefined) {
              const target = this.sections[sym.shndx]!;
              const valueOff = insn.imm + sym.value;
              if (valueOff < 0 || valueOff >= Math.max(1, target.size)) throw parseError(`global data reference at pc ${pc} is outside ${target.name}`, { pc });
              insns[pc] = { ...insn, src: BPF_PSEUDO_MAP_VALUE, imm: dataIdx };
              insns[pc + 1] = { ...insns[pc + 1]!, imm: valueOff };
              continue;
            }
            if (sym.type === STT_FUNC || (this.sections[sym.shndx]!.flags & SHF_EXECINSTR) !== 0) {
              throw unsupported(`function pointer (callback) to '${sym.name}' at pc ${pc} is not supported`, { pc });
            }
            throw unsupported(`lddw at pc ${pc} refers to '${sym.name || this.sections[sym.shndx]?.name}', which is neither a map nor global data`, { pc });
          } else if (rtype === R_BPF_64_32) {
            if (insn.opcode !== 0x85 || insn.src !== BPF_PSEUDO_CALL) throw parseError(`R_BPF_64_32 at pc ${pc} is not on a local call`, { pc });
            const tsec = this.sections[sym.shndx]!;
            let tBase: number;
            if (tsec.index === s.index) tBase = at;
            else if (text && tsec.index === text.index) {
              if (textBase < 0) {
                textBase = insns.length;
                insns.push(...decodeInsns(this.sectionData(text)));
                applyRelocs(text, textBase);
              }
              tBase = textBase;
            } else throw unsupported(`call at pc ${pc} into section ${tsec.name} (only .text subprograms are supported)`, { pc });
            const target = tBase + sym.value / 8 + insn.imm + 1;
            if (target < tBase || target >= tBase + tsec.size / 8) throw parseError(`call at pc ${pc} targets outside ${tsec.name}`, { pc });
            insns[pc] = { ...insns[pc]!, imm: target - pc - 1 };
          } else {
            throw unsupported(`relocation type ${rtype} at pc ${pc} is not supported (R_BPF_64_64 and R_BPF_64_32 are)`, { pc, field: 'r_type', actual: rtype });
          }
        }
      }
    };
    applyRelocs(sec, base);
    if (lead) insns[0] = bpfInsn(0x05, 0, 0, entry.value / 8, 0);
    // Maps (in object order), reusing shared ones by name.
    const maps: BpfMap[] = this.maps.map((d) => {
      const shared = options.maps?.get(d.name);
      if (shared) return shared;
      const m = BpfMap.create({ type: d.type, keySize: d.keySize, valueSize: d.valueSize, maxEntries: d.maxEntries, name: d.name, flags: d.flags });
      const sec = this.sections.find((s) => s.name === d.origin && isGlobalData(s.name));
      if (sec) m.values.set(this.sectionData(sec));
      return m;
    });
    const globals = new Map<string, BpfElfGlobal>();
    for (const s of this.symbols) {
      if (s.type !== STT_OBJECT || !this.dataMaps.has(s.shndx) || s.name === '') continue;
      globals.set(s.name, { map: this.sections[s.shndx]!.name, offset: s.value, size: s.size });
    }
    return { name: prog.name, section: prog.section, insns, maps, globals };
  }
}

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NetworkError) throw e;
    // DataView/TypedArray range errors on a malformed file: report them as what they are.
    throw parseError(`malformed object (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Parses an object without loading a program (lists programs, maps, symbols). */
export function parseBpfElf(bytes: Uint8Array): BpfElfObject {
  return guarded(() => new BpfElfObject(bytes));
}

/** Parses an object and builds one program's image (by section or function name; default the first). */
export function loadBpfElf(bytes: Uint8Array, select?: string, options?: { maps?: ReadonlyMap<string, BpfMap> }): BpfElfLoaded {
  return guarded(() => new BpfElfObject(bytes).load(select, options));
}
