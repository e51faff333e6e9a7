// Any sequence of events a transport (or a confused caller) can produce leaves every controller with a
// finite, positive window and pacing rate; bad arguments raise NetworkError, never a crash.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CC_ALGORITHMS, createCongestionControl, type CcAlgorithmName } from '../../src/cc/index.js';
import { isNetworkError } from '../../src/errors.js';

const MSS = 1200;

const event = fc.oneof(
  fc.record({ k: fc.constant('sent' as const), bytes: fc.integer({ min: 1, max: 3 * MSS }) }),
  fc.record({
    k: fc.constant('ack' as const), bytes: fc.integer({ min: 0, max: 20 * MSS }), rtt: fc.option(fc.double({ min: 0.01, max: 5000, noNaN: true }), { nil: undefined }),
    inflight: fc.option(fc.integer({ min: 0, max: 500 * MSS }), { nil: undefined }), sentBack: fc.option(fc.double({ min: 0, max: 1000, noNaN: true }), { nil: undefined }),
  }),
  fc.record({ k: fc.constant('loss' as const), bytes: fc.integer({ min: 1, max: 5 * MSS }), sentBack: fc.double({ min: 0, max: 1000, noNaN: true }) }),
  fc.record({ k: fc.constant('rto' as const) }),
  fc.record({ k: fc.constant('ce' as const), bytes: fc.integer({ min: 0, max: 5 * MSS }) }),
  fc.record({ k: fc.constant('app' as const) }),
  fc.record({ k: fc.constant('dup' as const) }),
  fc.record({ k: fc.constant('wait' as const), ms: fc.double({ min: 0, max: 20_000, noNaN: true }) }),
);

// fast-check found it (seed 55200999): BBRv3 left Startup on a loss before any bandwidth sample, and the
// idle restart in ProbeBW then paced at bw × 1 = 0.
it('bbr3: an idle restart before any bandwidth sample keeps a positive pacing rate', () => {
  const cc = createCongestionControl('bbr3', 10 * MSS, { mss: MSS });
  cc.onEcnCe(0.5, { ceBytes: 1 });
  cc.onAck(1, undefined, 1);
  cc.onPacketSent(1, 1.5);
  cc.onLoss(2, { lostBytes: 1, sentTime: 2 });
  cc.onPacketSent(1, 2.5);
  expect(cc.pacingRate()).toBeGreaterThan(0);
});

describe.each(CC_ALGORITHMS)('%s under arbitrary event sequences', (alg: CcAlgorithmName) => {
  it('keeps cwnd and pacing rate finite and positive', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 300 }), (events) => {
        const cc = createCongestionControl(alg, 10 * MSS, { mss: MSS });
        let now = 0;
        for (const e of events) {
          now += 0.5;
          switch (e.k) {
            case 'sent': cc.onPacketSent(e.bytes, now); break;
            case 'ack': cc.onAck(e.bytes, e.rtt, now, { bytesInFlight: e.inflight, sentTime: e.sentBack === undefined ? undefined : now - e.sentBack }); break;
            case 'loss': cc.onLoss(now, { lostBytes: e.bytes, sentTime: now - e.sentBack }); break;
            case 'rto': cc.onRto(now); break;
            case 'ce': cc.onEcnCe(now, { ceBytes: e.bytes }); break;
            case 'app': cc.onAppLimited(now); break;
            case 'dup': if ('onDuplicateAck' in cc && typeof cc.onDuplicateAck === 'function') (cc.onDuplicateAck as (n: number) => void)(now); break;
            case 'wait': now += e.ms; break;
          }
          expect(Number.isFinite(cc.cwnd)).toBe(true);
          expect(cc.cwnd).toBeGreaterThan(0);
          const rate = cc.pacingRate();
          expect(Number.isFinite(rate)).toBe(true);
          expect(rate).toBeGreaterThan(0);
          expect(cc.bytesInFlight).toBeGreaterThanOrEqual(0);
        }
        const s = cc.state();
        expect(s.algorithm).toBe(alg);
        expect(JSON.stringify(s)).not.toContain('NaN');
      }),
      { numRuns: 150 },
    );
  });

  it('rejects invalid arguments with NetworkError', () => {
    for (const bad of [() => createCongestionControl(alg, 0), () => createCongestionControl(alg, 1000, { mss: -1 }), () => createCongestionControl(alg, NaN),
      () => createCongestionControl(alg, 14600).onAck(-5, 10, 1), () => createCongestionControl(alg, 14600).onAck(NaN, 10, 1)]) {
      let err: unknown;
      try {
        bad();
      } catch (e) {
        err = e;
      }
      expect(isNetworkError(err, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
