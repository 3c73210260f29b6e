import { describe, expect, it } from 'vitest';
import { planReplicas, type ReplicaView } from '../../../src/deploy/plan/plan-replicas.js';

function r(id: string, revision: string, phase: ReplicaView['phase'] = 'serving', healthy = true, startedAtMs = 0): ReplicaView {
  return { replicaId: id, revision, phase, healthy, startedAtMs };
}

const base = { revision: 'new', desiredReplicas: 3, nextStartAtMs: 0, nowMs: 1_000 };

describe('planReplicas (the worked examples of its doc comment)', () => {
  it('starts every missing replica at once when nothing runs', () => {
    expect(planReplicas({ ...base, replicas: [] }).actions).toEqual([
      { type: 'start', revision: 'new' },
      { type: 'start', revision: 'new' },
      { type: 'start', revision: 'new' },
    ]);
  });

  it('drains the least useful replica when there is one too many', () => {
    const replicas = [r('a', 'new', 'serving', true, 1), r('b', 'new', 'serving', false, 2), r('c', 'new', 'serving', true, 3), r('d', 'new', 'serving', true, 4)];
    expect(planReplicas({ ...base, replicas }).actions).toEqual([{ type: 'drain', replicaId: 'b', reason: 'scale-down' }]);
  });

  it('on scale-down prefers starting replicas, then the newest', () => {
    const replicas = [r('a', 'new', 'serving', true, 1), r('b', 'new', 'serving', true, 9), r('c', 'new', 'serving', true, 3), r('d', 'new', 'serving', true, 4)];
    expect(planReplicas({ ...base, desiredReplicas: 2, replicas }).actions).toEqual([
      { type: 'drain', replicaId: 'b', reason: 'scale-down' },
      { type: 'drain', replicaId: 'd', reason: 'scale-down' },
    ]);
  });

  it('starts one new replica first when a template changed (surge 1)', () => {
    const replicas = [r('a', 'old'), r('b', 'old'), r('c', 'old')];
    expect(planReplicas({ ...base, replicas }).actions).toEqual([{ type: 'start', revision: 'new' }]);
  });

  it('waits while the new replica is not healthy yet', () => {
    const replicas = [r('a', 'old'), r('b', 'old'), r('c', 'old'), r('n1', 'new', 'starting', false)];
    expect(planReplicas({ ...base, replicas }).actions).toEqual([]);
  });

  it('drains one old replica once a new one is healthy, and starts the next new one', () => {
    const replicas = [r('a', 'old'), r('b', 'old'), r('c', 'old'), r('n1', 'new')];
    expect(planReplicas({ ...base, replicas }).actions).toEqual([
      { type: 'drain', replicaId: 'a', reason: 'replaced' },
      { type: 'start', revision: 'new' },
    ]);
  });

  it('drains the last old replica when the new set is complete', () => {
    const replicas = [r('c', 'old'), r('n1', 'new'), r('n2', 'new'), r('n3', 'new')];
    expect(planReplicas({ ...base, replicas }).actions).toEqual([{ type: 'drain', replicaId: 'c', reason: 'replaced' }]);
  });

  it('never plans fewer healthy replicas than desired during a replacement', () => {
    // Simulate a whole replacement, applying each plan and making new replicas healthy one tick later.
    let replicas: ReplicaView[] = [r('a', 'old'), r('b', 'old'), r('c', 'old')];
    let counter = 0;
    for (let tick = 0; tick < 20; tick++) {
      const plan = planReplicas({ ...base, replicas });
      replicas = replicas.map((x) => (x.phase === 'starting' ? { ...x, phase: 'serving' as const, healthy: true } : x));
      for (const action of plan.actions) {
        if (action.type === 'start') replicas.push(r(`n${++counter}`, 'new', 'starting', false));
        else replicas = replicas.filter((x) => x.replicaId !== action.replicaId);
      }
      const healthy = replicas.filter((x) => x.phase === 'serving' && x.healthy).length;
      expect(healthy).toBeGreaterThanOrEqual(3);
      expect(replicas.filter((x) => x.phase !== 'leaving').length).toBeLessThanOrEqual(4);
    }
    expect(replicas.map((x) => x.revision)).toEqual(['new', 'new', 'new']);
  });

  it('holds replacements back during a crash backoff and asks to be requeued at its end', () => {
    const plan = planReplicas({ ...base, replicas: [r('a', 'new')], nextStartAtMs: 5_000 });
    expect(plan).toEqual({ actions: [], requeueAtMs: 5_000 });
  });

  it('drains unhealthy old replicas at once: they serve nobody', () => {
    const replicas = [r('a', 'old', 'serving', false), r('b', 'old'), r('c', 'old')];
    expect(planReplicas({ ...base, replicas }).actions).toEqual([
      { type: 'drain', replicaId: 'a', reason: 'replaced' },
      { type: 'start', revision: 'new' },
    ]);
  });

  it('drains everything when scaled to zero mid-replacement', () => {
    const replicas = [r('a', 'old'), r('n1', 'new', 'starting', false)];
    expect(planReplicas({ ...base, desiredReplicas: 0, replicas }).actions).toHaveLength(2);
  });

  it('ignores replicas that are already leaving', () => {
    const replicas = [r('a', 'new', 'leaving'), r('b', 'new'), r('c', 'new'), r('d', 'new')];
    expect(planReplicas({ ...base, replicas }).actions).toEqual([]);
  });
});
