// Blue-green rollouts of a process-runtime service under continuous load through the real proxy
// (issue 6): an automatic switch after the new set is ready, and a manual promote with the preview
// header reaching only the new set before the switch. Real gateway, real demo processes, loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/eventually.js';
import { command, deployVersion, events, gatewayLog, rollout, service, startGateway, waitOnlyRevision, waitPhase, type Cleanups } from '../../helpers/rollout-gateway.js';
import { describeFailures, startTraffic, type Answer } from '../../helpers/rollout-traffic.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const LOAD = { concurrency: 3, maxMs: 50_000, maxRequests: 100_000 } as const;
const PREVIEW = { 'x-dockmaster-preview': '1' } as const;
const SCALE_DOWN_DELAY_MS = 2_000;

function otherThan(answers: readonly Answer[], version: string): Answer[] {
  return answers.filter((a) => a.version !== version);
}

describe('blue-green rollouts under load (process runtime)', () => {
  it('starts the full new set, switches all traffic at once when it is ready, keeps the old set warm for scaleDownDelayMs: no failed request', async () => {
    const { cli, firstRevision: rev1 } = await startGateway(cleanups, {
      replicas: 3,
      deploy: { strategy: 'blue-green', blueGreen: { autoPromote: true, scaleDownDelayMs: SCALE_DOWN_DELAY_MS } },
    });
    const traffic = startTraffic(cli.proxyUrl, LOAD);
    await waitFor(() => traffic.count() >= 50, 'load before the deploy', { timeoutMs: 10_000 });

    const rev2 = await deployVersion(cli, '2');
    const done = await waitPhase(cli, 'demo#1', 'Succeeded');
    await waitOnlyRevision(cli, rev2, 3);
    const countAtEnd = traffic.count();
    await waitFor(() => traffic.count() >= countAtEnd + 100, 'load after the rollout', { timeoutMs: 10_000 });
    const load = await traffic.stop();

    expect(load.failures, `${describeFailures(load.failures)}\n${gatewayLog(cli)}`).toHaveLength(0);
    expect(done).toMatchObject({ strategy: 'blue-green', fromRevision: rev1, toRevision: rev2, weights: [{ revision: rev1, percent: 0 }, { revision: rev2, percent: 100 }] });
    // One switch: once a request was answered by version 2, every request sent later is too.
    const firstNew = load.answers.filter((a) => a.version === '2').sort((a, b) => a.endedAtMs - b.endedAtMs)[0];
    expect(firstNew).toBeDefined();
    expect(otherThan(load.answers.filter((a) => a.startedAtMs > (firstNew?.endedAtMs ?? 0)), '2')).toEqual([]);
    expect(load.byVersion.get('1') ?? 0).toBeGreaterThan(0);

    // The old set drained only after the scale-down delay that followed the switch.
    const timeline = await events(cli);
    const switched = timeline.find((e) => e.type === 'rollout.weights' && JSON.stringify(e.data?.['weights']).includes(`{"revision":"${rev2}","percent":100}`));
    expect(switched, JSON.stringify(timeline.map((e) => e.message))).toBeDefined();
    const oldDrains = timeline.filter((e) => e.type === 'replica.draining' && e.data?.['revision'] === rev1);
    expect(oldDrains).toHaveLength(3);
    for (const drain of oldDrains) expect(drain.atMs - (switched?.atMs ?? 0)).toBeGreaterThanOrEqual(SCALE_DOWN_DELAY_MS - 50);
    // The whole new set was up before the switch.
    const newReady = timeline.filter((e) => e.type === 'health.changed' && e.data?.['healthy'] === true && String(e.data['replica']).startsWith(`demo-${rev2.slice(0, 6)}`));
    expect(newReady).toHaveLength(3);
    for (const ready of newReady) expect(ready.atMs).toBeLessThanOrEqual(switched?.atMs ?? 0);
  }, 60_000);

  it('waits for promote with the new set ready: preview requests reach only version 2, plain ones only version 1; promote switches: no failed request', async () => {
    const { cli, firstRevision: rev1 } = await startGateway(cleanups, {
      replicas: 3,
      deploy: { strategy: 'blue-green', blueGreen: { autoPromote: false, preview: true, scaleDownDelayMs: SCALE_DOWN_DELAY_MS } },
    });
    const plain = startTraffic(cli.proxyUrl, LOAD);
    await waitFor(() => plain.count() >= 50, 'load before the deploy', { timeoutMs: 10_000 });

    const rev2 = await deployVersion(cli, '2');
    const waiting = await waitPhase(cli, 'demo#1', 'Paused');
    expect(waiting).toMatchObject({ step: { index: 1, description: 'new set ready: waiting for promote' }, weights: [{ revision: rev1, percent: 100 }, { revision: rev2, percent: 0 }] });
    expect(waiting.replicas).toEqual(
      [
        { revision: rev1, active: 3, ready: 3 },
        { revision: rev2, active: 3, ready: 3 },
      ].sort((a, b) => (a.revision < b.revision ? -1 : 1)),
    );
    const previewFromMs = Date.now();
    const preview = startTraffic(cli.proxyUrl, { ...LOAD, concurrency: 2, headers: PREVIEW });
    await waitFor(() => preview.count() >= 200, 'preview requests before promote', { timeoutMs: 15_000 });
    const promotedAtMs = Date.now();
    expect((await rollout(cli)).phase).toBe('Paused');

    const promoted = await command(cli, 'promote');
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    await waitPhase(cli, 'demo#1', 'Succeeded');
    await waitOnlyRevision(cli, rev2, 3);
    const endedAtMs = Date.now();
    const countAtEnd = plain.count();
    await waitFor(() => plain.count() >= countAtEnd + 100, 'load after the rollout', { timeoutMs: 10_000 });
    const previewLoad = await preview.stop();
    const plainLoad = await plain.stop();

    expect(plainLoad.failures, `${describeFailures(plainLoad.failures)}\n${gatewayLog(cli)}`).toHaveLength(0);
    expect(previewLoad.failures, describeFailures(previewLoad.failures)).toHaveLength(0);
    // Before promote: the preview header reaches only the new set, plain requests only the old one.
    expect(otherThan(previewLoad.answers, '2')).toEqual([]);
    const plainBeforePromote = plainLoad.answers.filter((a) => a.endedAtMs < promotedAtMs);
    expect(plainBeforePromote.filter((a) => a.startedAtMs >= previewFromMs).length).toBeGreaterThan(50);
    expect(otherThan(plainBeforePromote, '1')).toEqual([]);
    expect(otherThan(plainLoad.answers.filter((a) => a.startedAtMs > endedAtMs), '2')).toEqual([]);
    expect((await service(cli)).stableRevision).toBe(rev2);
  }, 60_000);
});
