/**
 * The part of BTF (the BPF Type Format, Linux Documentation/bpf/btf.rst) the ELF loader needs: type records,
 * sizes, and the `.maps` DATASEC from which BTF-defined maps (`__uint(type, …)`, `__type(key, …)`) are read.
 * Every offset is bounds-checked; malformed data throws NetworkError PARSE_ERROR.
 */
import { NetworkError } from '../errors.js';

export const BTF_KIND_INT = 1;
export const BTF_KIND_PTR = 2;
export const BTF_KIND_ARRAY = 3;
export const BTF_KIND_STRUCT = 4;
export const BTF_KIND_UNION = 5;
export const BTF_KIND_ENUM = 6;
export const BTF_KIND_FWD = 7;
export const BTF_KIND_TYPEDEF = 8;
export const BTF_KIND_VOLATILE = 9;
export const BTF_KIND_CONST = 10;
export const BTF_KIND_RESTRICT = 11;
export const BTF_KIND_FUNC = 12;
export const BTF_KIND_FUNC_PROTO = 13;
export const BTF_KIND_VAR = 14;
export const BTF_KIND_DATASEC = 15;
export const BTF_KIND_FLOAT = 16;
export const BTF_KIND_DECL_TAG = 17;
export const BTF_KIND_TYPE_TAG = 18;
export const BTF_KIND_ENUM64 = 19;

/** One BTF type record. `members` holds struct/union members, datasec entries or enum values by kind. */
export interface BtfType {
  id: number;
  kind: number;
  name: string;
  /** size (INT, STRUCT, UNION, ENUM, DATASEC, FLOAT) or referenced type id (PTR, TYPEDEF, VAR, modifiers…). */
  sizeOrType: number;
  vlen: number;
  /** ARRAY: element type, index type, count. */
  array?: { type: number; indexType: number; nelems: number };
  /** STRUCT/UNION: name, type, bit offset. DATASEC: type (a VAR), byte offset, size. */
  members: { name: string; type: number; offset: number; size?: number }[];
}

function btfError(why: string, offset?: number): NetworkError {
  return new NetworkError('PARSE_ERROR', `BTF: ${why}`, { field: 'BTF', offset });
}

/** Parsed BTF: types by id (index 0 = void). */
export class BtfInfo {
  readonly types: (BtfType | undefined)[] = [undefined];

  constructor(bytes: Uint8Array) {
    if (bytes.length < 24) throw btfError('section shorter than its header');
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magic = dv.getUint16(0, true);
    if (magic !== 0xeb9f) {
      if (magic === 0x9feb) {
        throw new NetworkError('UNSUPPORTED', 'BTF: big-endian BTF is not supported', { field: 'BTF' });
      }
      throw btfError(`bad magic 0x${magic.toString(16)}`, 0);
    }
    const hdrLen = dv.getUint32(4, true);
    const typeOff = dv.getUint32(8, true);
    const typeLen = dv.getUint32(12, true);
    const strOff = dv.getUint32(16, true);
    const strLen = dv.getUint32(20, true);
    const tStart = hdrLen + typeOff;
    const tEnd = tStart + typeLen;
    const sStart = hdrLen + strOff;
    const sEnd = sStart + strLen;
    if (hdrLen < 24 || tEnd > bytes.length || sEnd > bytes.length || tStart > tEnd) throw btfError('sections outside the data');
    const str = (off: number): string => {
      if (off >= strLen) throw btfError(`string offset ${off} outside the string section`);
      let e = sStart + off;
      while (e < sEnd && bytes[e] !== 0) e++;
      return new TextDecoder().decode(bytes.subarray(sStart + off, e));
    };
    let p = tStart;
    const need = (n: number) => {
      if (p + n > tEnd) throw btfError('type record runs past the type section', p);
    };
    while (p < tEnd) {
      need(12);
      const nameOff = dv.getUint32(p, true);
      const info = dv.getUint32(p + 4, true);
      const sizeOrType = dv.getUint32(p + 8, true);
      p += 12;
      const vlen = info & 0xffff;
      const kind = (info >>> 24) & 0x1f;
      const t: BtfType = { id: this.types.length, kind, name: str(nameOff), sizeOrType, vlen, members: [] };
      switch (kind) {
        case BTF_KIND_INT:
        case BTF_KIND_VAR:
        case BTF_KIND_DECL_TAG:
          need(4);
          p += 4;
          break;
        case BTF_KIND_ARRAY:
          need(12);
          t.array = { type: dv.getUint32(p, true), indexType: dv.getUint32(p + 4, true), nelems: dv.getUint32(p + 8, true) };
          p += 12;
          break;
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
          need(12 * vlen);
          for (let i = 0; i < vlen; i++, p += 12) {
            t.members.push({ name: str(dv.getUint32(p, true)), type: dv.getUint32(p + 4, true), offset: dv.getUint32(p + 8, true) });
          }
          break;
        case BTF_KIND_ENUM:
          need(8 * vlen);
          p += 8 * vlen;
          break;
        case BTF_KIND_ENUM64:
          need(12 * vlen);
          p += 12 * vlen;
          break;
        case BTF_KIND_FUNC_PROTO:
          need(8 * vlen);
          p += 8 * vlen;
          break;
        case BTF_KIND_DATASEC:
          need(12 * vlen);
          for (let i = 0; i < vlen; i++, p += 12) {
            t.members.push({ name: '', type: dv.getUint32(p, true), offset: dv.getUint32(p + 4, true), size: dv.getUint32(p + 8, true) });
          }
          break;
        case BTF_KIND_PTR:
        case BTF_KIND_FWD:
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_FUNC:
        case BTF_KIND_FLOAT:
        case BTF_KIND_TYPE_TAG:
          break;
        default:
          throw btfError(`unknown type kind ${kind}`, p - 12);
      }
      this.types.push(t);
      if (this.types.length > 1_000_000) throw btfError('too many types');
    }
  }

  /** The type with this id; PARSE_ERROR when it does not exist. */
  type(id: number): BtfType {
    const t = this.types[id];
    if (!t) throw btfError(`type id ${id} does not exist`);
    return t;
  }

  /** Follows typedefs and const/volatile/restrict/type tags. */
  skipModifiers(id: number): BtfType {
    for (let guard = 0; guard < 64; guard++) {
      const t = this.type(id);
      if (t.kind !== BTF_KIND_TYPEDEF && t.kind !== BTF_KIND_VOLATILE && t.kind !== BTF_KIND_CONST && t.kind !== BTF_KIND_RESTRICT && t.kind !== BTF_KIND_TYPE_TAG) return t;
      id = t.sizeOrType;
    }
    throw btfError('type modifier chain too long (a cycle?)');
  }

  /** Size in bytes of a type (PARSE_ERROR for sizeless kinds such as void or functions). */
  sizeOf(id: number, depth = 0): number {
    if (depth > 64) throw btfError('type nesting too deep');
    const t = this.skipModifiers(id);
    switch (t.kind) {
      case BTF_KIND_INT:
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
      case BTF_KIND_DATASEC:
      case BTF_KIND_FLOAT:
        return t.sizeOrType;
      case BTF_KIND_PTR:
        return 8;
      case BTF_KIND_ARRAY:
        return t.array!.nelems * this.sizeOf(t.array!.type, depth + 1);
      default:
        throw btfError(`type ${t.id} (kind ${t.kind}) has no size`);
    }
  }

  /** The DATASEC with this name, if any. */
  datasec(name: string): BtfType | undefined {
    return this.types.find((t) => t?.kind === BTF_KIND_DATASEC && t.name === name);
  }
}

/** A map as declared in `.maps` with BTF. */
export interface BtfMapDef {
  name: string;
  /** Offset of the variable in the `.maps` section. */
  offset: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

/**
 * Reads the BTF-defined maps of `.maps` (libbpf's parse_btf_map_def): `__uint(x, N)` is a pointer to an
 * array of N elements; `__type(key, T)` a pointer to T; `key_size`/`value_size` may be given as __uint too.
 */
export function btfMapDefs(btf: BtfInfo): BtfMapDef[] {
  const sec = btf.datasec('.maps');
  if (!sec) return [];
  const out: BtfMapDef[] = [];
  for (const v of sec.members) {
    const variable = btf.type(v.type);
    if (variable.kind !== BTF_KIND_VAR) throw btfError(`.maps entry ${v.type} is not a variable`);
    const def = btf.skipModifiers(variable.sizeOrType);
    if (def.kind !== BTF_KIND_STRUCT) throw btfError(`map ${variable.name} is not a struct`);
    const m: BtfMapDef = { name: variable.name, offset: v.offset, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0 };
    for (const mem of def.members) {
      const ptr = btf.skipModifiers(mem.type);
      const uintVal = (): number => {
        if (ptr.kind !== BTF_KIND_PTR) throw btfError(`map ${m.name}: field ${mem.name} is not __uint(…)`);
        const arr = btf.skipModifiers(ptr.sizeOrType);
        if (arr.kind !== BTF_KIND_ARRAY) throw btfError(`map ${m.name}: field ${mem.name} is not __uint(…)`);
        return arr.array!.nelems;
      };
      switch (mem.name) {
        case 'type':
          m.type = uintVal();
          break;
        case 'max_entries':
          m.maxEntries = uintVal();
          break;
        case 'map_flags':
          m.flags = uintVal();
          break;
        case 'key_size':
          m.keySize = uintVal();
          break;
        case 'value_size':
          m.valueSize = uintVal();
          break;
        case 'key':
        case 'value': {
          if (ptr.kind !== BTF_KIND_PTR) throw btfError(`map ${m.name}: field ${mem.name} is not __type(…)`);
          const size = btf.sizeOf(ptr.sizeOrType);
          if (mem.name === 'key') m.keySize = size;
          else m.valueSize = size;
          break;
        }
        case 'pinning':
        case 'numa_node':
        case 'map_extra':
          break;
        default:
          throw new NetworkError('UNSUPPORTED', `map ${m.name}: BTF map field '${mem.name}' is not supported (map-in-map, …)`, {
            field: mem.name,
          });
      }
    }
    out.push(m);
  }
  return out;
}
