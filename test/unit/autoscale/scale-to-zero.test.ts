import { describe, expect, it } from 'vitest';
import { replicaFloor, type FloorInput, type FloorPolicy } from '../../../src/autoscale/scale-to-zero.js';
import { steadyWindow } from './fixtures.js';

const S = 1000;
const NOW = 1000 * S;
const toZero: FloorPolicy = { minReplicas: 0, scaleToZero: { idleMs: 120 * S } };
function input(extra: { current?: number; held?: number; panicRps?: number; lastRequestAtS?: number | undefined }): FloorInput {
  return {
    nowMs: NOW,
    currentReplicas: extra.current ?? 3,
    heldRequests: extra.held ?? 0,
    panic: steadyWindow(6 * S, extra.panicRps ?? 0),
    lastRequestAtMs: extra.lastRequestAtS === undefined ? undefined : extra.lastRequestAtS * S,
  };
}

describe('replicaFloor (the worked examples of its doc comment)', () => {
  it.each<[string, FloorPolicy, FloorInput, number, boolean]>([
    ['minReplicas 2 is the floor', { minReplicas: 2, scaleToZero: { idleMs: 1 } }, input({ lastRequestAtS: 0 }), 2, false],
    ['3 held requests mean at least 1', toZero, input({ held: 3, lastRequestAtS: 0 }), 1, false],
    ['requests in the panic window mean at least 1', toZero, input({ panicRps: 0.67, lastRequestAtS: 999 }), 1, false],
    ['a request 100 s ago with 3 replicas: 1, not idle yet', toZero, input({ lastRequestAtS: 900 }), 1, false],
    ['a request 120 s ago: idle, 0', toZero, input({ lastRequestAtS: 880 }), 0, true],
    ['no request since start, first sync 50 s ago, at 0 replicas: stays 0, not idle', toZero, input({ current: 0 }), 0, false],
    ['no scaleToZero with minReplicas 0: never idle, 1 while replicas run', { minReplicas: 0 }, input({ current: 2, lastRequestAtS: -2600 }), 1, false],
  ])('%s', (_name, policy, i, floor, idle) => {
    const result = replicaFloor(policy, i, 950 * S);
    expect(result.floor).toBe(floor);
    expect(result.idle).toBe(idle);
  });

  it('counts the quiet time from the first sync when no request was ever seen', () => {
    expect(replicaFloor(toZero, input({}), 881 * S)).toMatchObject({ floor: 1, idle: false });
    expect(replicaFloor(toZero, input({}), 880 * S)).toMatchObject({ floor: 0, idle: true });
  });

  it('a held request wakes a service at zero even with no request counted yet', () => {
    expect(replicaFloor(toZero, input({ current: 0, held: 1 }), 0)).toMatchObject({ floor: 1, idle: false });
  });

  it('a request in the newest interval counts like one in the panic window', () => {
    expect(replicaFloor(toZero, { ...input({ lastRequestAtS: 0 }), latest: steadyWindow(S, 1) }, 0)).toMatchObject({ floor: 1, idle: false });
  });

  it('explains idleness with the numbers', () => {
    expect(replicaFloor(toZero, input({ lastRequestAtS: 850 }), 0).reason).toBe('floor: 0, idle: no request for 150 s (idleMs 120000), nothing held -> scale to zero');
  });
});
