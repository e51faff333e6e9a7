/** The codes a {@link NetworkError} carries; one per kind of failure a caller may want to handle. */
export type NetworkErrorCode =
  | 'BUFFER_FULL'
  | 'INVALID_PACKET'
  | 'TRUNCATED'
  | 'BAD_CHECKSUM'
  | 'TIMEOUT'
  | 'VERIFIER_REJECTED'
  | 'UNSUPPORTED'
  | 'INVALID_ARGUMENT'
  | 'OUT_OF_BOUNDS'
  | 'BUDGET_EXCEEDED'
  | 'DOUBLE_FREE'
  | 'PARSE_ERROR'
  | 'NATIVE_UNAVAILABLE'
  | 'WORKER_FAILED'
  | 'CLOSED';

/** Structured detail: where in the input, which field, what was expected and what was found. */
export interface NetworkErrorDetail {
  offset?: number;
  field?: string;
  expected?: string | number | bigint;
  actual?: string | number | bigint;
  pc?: number;
  [key: string]: unknown;
}

/** The one error type the library throws for bad input and failed operations. */
export class NetworkError extends Error {
  readonly code: NetworkErrorCode;
  readonly detail: NetworkErrorDetail;

  constructor(code: NetworkErrorCode, message: string, detail: NetworkErrorDetail = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetworkError';
    this.code = code;
    this.detail = detail;
  }
}

/** True when `e` is a NetworkError, optionally of the given code. */
export function isNetworkError(e: unknown, code?: NetworkErrorCode): e is NetworkError {
  return e instanceof NetworkError && (code === undefined || e.code === code);
}

/**
 * Runs a native call and turns the RangeError/TypeError the addon throws for bad arguments into a
 * NetworkError, so callers see one error type whichever backend ran.
 */
export function fromNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NetworkError) throw e;
    if (e instanceof RangeError) throw new NetworkError('OUT_OF_BOUNDS', e.message, { native: true }, { cause: e });
    if (e instanceof TypeError) throw new NetworkError('INVALID_ARGUMENT', e.message, { native: true }, { cause: e });
    throw e;
  }
}
