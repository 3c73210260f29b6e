// The controller when replicas run on several hosts (ServiceController on the fake runtime and
// fake time): a replica no host can take waits as `pending` with the reason, without crash
// backoff, and starts once a host takes it; a replica whose host was lost (an `exited` event with
// reason host-lost, as the multi-host driver sends) is replaced at once under the same replica id,
// is not counted as a restart, and does not fail a rollout in progress.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ControllerHarness, SERVICE, useScenarioTimers } from './controller-harness.js';
import { policyWith } from './rollout-fixtures.js';
import { DockmasterError } from '../../../src/errors.js';
import type { RuntimeEvent } from '../../../src/runtime/runtime-driver.js';

let harness: ControllerHarness | undefined;

function start(options: ConstructorParameters<typeof ControllerHarness>[0]): ControllerHarness {
  useScenarioTimers();
  harness = new ControllerHarness(options);
  return harness;
}

afterEach(() => {
  harness?.controller.close();
  harness = undefined;
  vi.useRealTimers();
});

const surgeOnly = policyWith({ rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 0 } });
const NO_HOST_REASON = 'no host fits: h1 cordoned; h2 needs 0.5 cpus (0.25 free)';

/** What the multi-host driver reports for a replica of a host that stopped answering; the
 * runtime has forgotten it by then (here: the fake runtime stops it first; an expected stop is
 * no news to the controller). */
async function loseHost(h: ControllerHarness, replicaId: string): Promise<void> {
  const observation = h.runtime.list(SERVICE).find((o) => o.replicaId === replicaId);
  if (observation === undefined) throw new Error(`no replica ${replicaId}`);
  const event: RuntimeEvent = {
    kind: 'exited',
    atMs: Date.now(),
    ref: { id: observation.id, service: SERVICE, revision: observation.revision, replicaId },
    exitCode: undefined,
    signal: undefined,
    expected: false,
    reason: 'host-lost',
  };
  await h.settle(h.runtime.driver().stop(observation.id, 0));
  h.controller.onRuntimeEvent(event);
}

describe('scenario: several hosts', () => {
  it('a replica no host can take is pending with the reason (one event), without crash backoff, and starts once a host takes it', async () => {
    const h = start({ policy: surgeOnly, replicas: 2 });
    await h.boot();
    h.runtime.failStartsWith(() => new DockmasterError('DM_ERR_RUNTIME_NO_HOST', NO_HOST_REASON));
    h.controller.setDesiredReplicas(3);
    await h.runUntil(() => h.status().pending !== undefined, { maxMs: 5_000 });
    expect(h.status().pending?.reason).toBe(NO_HOST_REASON);
    // Tried again every second, still no host: the same pending state, one event, no backoff.
    await h.tick(3_500);
    const status = h.status();
    expect(status.pending?.reason).toBe(NO_HOST_REASON);
    expect(status.crashBackoff.consecutiveCrashes).toBe(0);
    expect(status.replicas).toHaveLength(2);
    expect(h.events.list({ service: SERVICE }).filter((e) => e.type === 'replica.pending')).toHaveLength(1);
    expect(h.events.list({ service: SERVICE }).filter((e) => e.type === 'replica.start-failed')).toHaveLength(0);
    // A host frees up: the next try places it, and the pending state clears.
    h.runtime.failStartsWith(undefined);
    h.controller.hostsChanged();
    await h.runUntil(() => h.pickable().length === 3, { maxMs: 5_000 });
    expect(h.status().pending).toBeUndefined();
  });

  it('a replica of a lost host leaves the endpoints at once and is replaced under the same id, with no restart counted', async () => {
    const h = start({ policy: surgeOnly, replicas: 3 });
    await h.boot();
    const lost = h.status().replicas[0]?.id ?? '';
    await loseHost(h, lost);
    expect(h.pickable().map((e) => e.id).some((id) => id.endsWith(`/${lost}`)), 'the lost replica is not pickable').toBe(false);
    const tookMs = await h.runUntil(() => h.pickable().length === 3, { maxMs: 10_000 });
    // No crash backoff: the replacement waits only for its own start and health check.
    expect(tookMs).toBeLessThan(1_000 + 1_500 + 500);
    const status = h.status();
    expect(status.replicas.map((r) => r.id)).toContain(lost);
    expect(status.replicas.every((r) => r.restarts === 0)).toBe(true);
    expect(status.crashBackoff.consecutiveCrashes).toBe(0);
    expect(h.events.list({ service: SERVICE }).filter((e) => e.type === 'replica.lost').map((e) => e.data?.['replica'])).toEqual([lost]);
    expect(h.events.list({ service: SERVICE }).some((e) => e.type === 'replica.exited')).toBe(false);
  });

  it('a rollout in progress carries on when a host holding a new replica is lost, and succeeds', async () => {
    const h = start({ policy: surgeOnly, replicas: 3 });
    const r1 = await h.boot();
    const r2 = h.deploy('v2');
    await h.runUntil(() => h.status().replicas.some((r) => r.revision === r2 && r.state === 'ready'), { maxMs: 20_000 });
    const newReplica = h.status().replicas.find((r) => r.revision === r2 && r.state === 'ready')?.id ?? '';
    await loseHost(h, newReplica);
    await h.runUntil(() => h.rollout()?.phase === 'Succeeded' && h.runtimeCount(r1) === 0, { maxMs: 60_000 });
    expect(h.active(r2)).toBe(3);
    expect(h.events.list({ service: SERVICE }).some((e) => e.type === 'rollout.failed')).toBe(false);
  });
});
