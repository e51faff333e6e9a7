// Building a controller by name (the simulator and the CLI pick algorithms from strings).
import { NetworkError } from '../errors.js';
import { BbrCongestionControl } from './bbr.js';
import { Bbr3CongestionControl } from './bbr3.js';
import { CubicCongestionControl, type CubicOptions } from './cubic.js';
import { NewRenoCongestionControl } from './reno.js';
import type { CcAlgorithmName, CongestionControl } from './types.js';

/** Every algorithm name, in the order tables and plots list them. */
export const CC_ALGORITHMS: readonly CcAlgorithmName[] = ['reno', 'cubic', 'bbr', 'bbr3'];

/** True when `name` is one of CC_ALGORITHMS. */
export function isCcAlgorithmName(name: string): name is CcAlgorithmName {
  return (CC_ALGORITHMS as readonly string[]).includes(name);
}

/** A new controller of the named algorithm with an initial window in bytes. */
export function createCongestionControl(name: CcAlgorithmName, initialCwnd: number, opts: CubicOptions = {}): CongestionControl {
  switch (name) {
    case 'reno':
      return new NewRenoCongestionControl(initialCwnd, opts);
    case 'cubic':
      return new CubicCongestionControl(initialCwnd, opts);
    case 'bbr':
      return new BbrCongestionControl(initialCwnd, opts);
    case 'bbr3':
      return new Bbr3CongestionControl(initialCwnd, opts);
    default:
      throw new NetworkError('INVALID_ARGUMENT', `unknown congestion control '${String(name)}' (use ${CC_ALGORITHMS.join(', ')})`, { field: 'cc', actual: String(name) });
  }
}
