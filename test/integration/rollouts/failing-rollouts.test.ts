// Rollouts that must not complete, under continuous load through the real proxy (issue 6): a
// canary whose analysis sees too many 5xx answers aborts itself within its interval, and a
// revision that never passes its health check rolls back at the progress deadline (rolling and
// canary). Real gateway, real demo processes, loopback only.
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/eventually.js';
import { deployVersion, events, putChanged, rewritePolicy, service, gatewayLog, revisions, rollout, sendAndCheck, startGateway, waitOnlyRevision, waitPhase, type Cleanups } from '../../helpers/rollout-gateway.js';
import { describeFailures, startTraffic } from '../../helpers/rollout-traffic.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const LOAD = { concurrency: 3, maxMs: 50_000, maxRequests: 100_000 } as const;
const ANALYSIS = { intervalMs: 1_000, minRequests: 20, successRate: 0.95, failureLimit: 0 } as const;
const CANARY_ERROR_RATE = 0.2;
const CANARY_WEIGHT = 0.2;
/** Scheduling and measurement slack on top of (failureLimit + 1) intervals. */
const ANALYSIS_SLACK_MS = 1_500;
const PROGRESS_DEADLINE_MS = 3_000;

describe('failing rollouts under load (process runtime)', () => {
  it('aborts a canary answering 20% 5xx by its analysis within one interval, with errors bounded by its weight, and leaves only version 1', async () => {
    const spec = { replicas: 4, deploy: { strategy: 'canary', canary: { steps: [{ setWeight: 20 }, { pause: {} }], analysis: ANALYSIS } } };
    const gateway = await startGateway(cleanups, spec);
    const { cli, firstRevision: rev1 } = gateway;
    const traffic = startTraffic(cli.proxyUrl, LOAD);
    await waitFor(() => traffic.count() >= 50, 'load before the deploy', { timeoutMs: 10_000 });

    // Through the policy file: the admin API's document round trip drops the analysis threshold
    // (see the last test of this file).
    const rev2 = await rewritePolicy(gateway, { ...spec, version: '2', env: { DEMO_ERROR_RATE: String(CANARY_ERROR_RATE) } });
    const aborted = await waitPhase(cli, 'demo#1', 'Aborted', 20_000);
    await waitOnlyRevision(cli, rev1, 4);
    const cleanFromMs = Date.now();
    const countAtEnd = traffic.count();
    await waitFor(() => traffic.count() >= countAtEnd + 200, 'load after the abort', { timeoutMs: 10_000 });
    const load = await traffic.stop();
    const timeline = await events(cli);
    const story = `${timeline.map((e) => `${e.atMs} ${e.type} ${e.message}`).join('\n')}\n${gatewayLog(cli, 20)}`;

    // Aborted by the analysis, with the measured numbers in the event and the condition.
    expect(aborted, story).toMatchObject({ fromRevision: rev1, toRevision: rev2, weights: [{ revision: rev1, percent: 100 }, { revision: rev2, percent: 0 }] });
    expect(aborted.message).toMatch(/^analysis failed: /);
    expect(aborted.conditions.at(-1)).toMatchObject({ type: 'AnalysisFailed' });
    const verdicts = timeline.filter((e) => e.type === 'rollout.analysis');
    expect(verdicts, story).toHaveLength(ANALYSIS.failureLimit + 1);
    const failed = verdicts.at(-1);
    expect(failed?.data).toMatchObject({ revision: rev2, verdict: 'fail', runVerdict: 'fail', failures: 1, failureLimit: 0 });
    const measured = failed?.data as { requests: number; errors5xx: number; successRate: number };
    expect(measured.requests).toBeGreaterThanOrEqual(ANALYSIS.minRequests);
    expect(measured.errors5xx).toBeGreaterThan(0);
    expect(measured.successRate).toBeLessThan(ANALYSIS.successRate);
    expect(measured.successRate).toBeCloseTo(1 - measured.errors5xx / measured.requests, 3);

    // Within the configured intervals from the moment the canary first took traffic.
    const firstWeight = timeline.find((e) => e.type === 'rollout.weights' && JSON.stringify(e.data?.['weights']).includes(`{"revision":"${rev2}","percent":20}`));
    expect(firstWeight, story).toBeDefined();
    const canaryFromMs = firstWeight?.atMs ?? 0;
    const abortedAtMs = aborted.finishedAtMs ?? Infinity;
    expect(abortedAtMs - canaryFromMs, story).toBeLessThanOrEqual((ANALYSIS.failureLimit + 1) * ANALYSIS.intervalMs + ANALYSIS_SLACK_MS);
    // Not before one whole interval (the event is recorded a moment after the interval began).
    expect(abortedAtMs - canaryFromMs).toBeGreaterThanOrEqual(ANALYSIS.intervalMs - 50);

    // Clients saw only the canary's injected errors, as many as its weight allows.
    expect(load.failures.filter((f) => f.status !== 500 || !(f.problem ?? '').includes('injected by DEMO_ERROR_RATE')), describeFailures(load.failures)).toEqual([]);
    const duringCanary = load.answers.filter((a) => a.endedAtMs >= canaryFromMs && a.startedAtMs <= abortedAtMs + 100);
    const allowed = duringCanary.length * CANARY_WEIGHT * CANARY_ERROR_RATE * 2.5;
    expect(load.failures.length, `${load.failures.length} errors of ${duringCanary.length} requests during the canary`).toBeLessThanOrEqual(allowed);
    expect(load.failures.length).toBeGreaterThan(0);
    for (const f of load.failures) expect(f.endedAtMs).toBeGreaterThanOrEqual(canaryFromMs);

    // Afterwards only version 1 answers, and no canary replica is left.
    expect(load.answers.filter((a) => a.startedAtMs > cleanFromMs && a.version !== '1')).toEqual([]);
    await sendAndCheck(cli, 200, '1');
    const history = await revisions(cli);
    expect(history.find((r) => r.revision === rev2)).toMatchObject({ heldBack: true, replicas: 0, stable: false });
    expect(history.find((r) => r.revision === rev1)).toMatchObject({ stable: true, replicas: 4 });
  }, 60_000);

  for (const strategy of ['rolling', 'canary'] as const) {
    it(`rolls back by itself (${strategy}) when the new revision never passes its health check within progressDeadlineMs: no failed request, no replica of it left, held back`, async () => {
      const deploy =
        strategy === 'rolling'
          ? { strategy, progressDeadlineMs: PROGRESS_DEADLINE_MS, rolling: { maxSurge: 1, maxUnavailable: 0 } }
          : { strategy, progressDeadlineMs: PROGRESS_DEADLINE_MS, canary: { steps: [{ setWeight: 50 }, { pause: {} }] } };
      const { cli, firstRevision: rev1 } = await startGateway(cleanups, { replicas: 3, deploy });
      const traffic = startTraffic(cli.proxyUrl, LOAD);
      await waitFor(() => traffic.count() >= 50, 'load before the deploy', { timeoutMs: 10_000 });

      const rev2 = await deployVersion(cli, '2', { DEMO_FAIL_HEALTH: '1' });
      const rolledBack = await waitPhase(cli, 'demo#1', 'RolledBack', 20_000);
      await waitOnlyRevision(cli, rev1, 3);
      const countAtEnd = traffic.count();
      await waitFor(() => traffic.count() >= countAtEnd + 100, 'load after the rollback', { timeoutMs: 10_000 });
      const load = await traffic.stop();

      expect(load.failures, `${describeFailures(load.failures)}\n${gatewayLog(cli)}`).toHaveLength(0);
      expect(load.byVersion.get('2') ?? 0).toBe(0);
      expect(rolledBack).toMatchObject({ fromRevision: rev1, toRevision: rev2 });
      expect(rolledBack.conditions.at(-1)).toMatchObject({ type: 'ProgressDeadlineExceeded' });
      expect(rolledBack.message).toContain(`rolled back to ${rev1}`);
      const tookMs = (rolledBack.finishedAtMs ?? Infinity) - rolledBack.startedAtMs;
      expect(tookMs).toBeGreaterThanOrEqual(PROGRESS_DEADLINE_MS);
      expect(tookMs).toBeLessThan(PROGRESS_DEADLINE_MS + 3_000);
      expect((await rollout(cli)).replicas).toEqual([{ revision: rev1, active: 3, ready: 3 }]);
      const history = await revisions(cli);
      expect(history.find((r) => r.revision === rev2)).toMatchObject({ heldBack: true, spec: true, stable: false, replicas: 0 });
      expect(history.find((r) => r.revision === rev1)).toMatchObject({ stable: true, replicas: 3 });
      await sendAndCheck(cli, 100, '1');
    }, 60_000);
  }

  it('shows a canary service with analysis as written in GET document, and accepts it PUT back with a new version', async () => {
    const deploy = { strategy: 'canary', canary: { steps: [{ setWeight: 20 }, { pause: {} }], analysis: ANALYSIS } };
    const { cli } = await startGateway(cleanups, { replicas: 1, deploy });
    const put = await putChanged(cli, (doc) => ({ ...doc, version: '2' }));
    expect(put.status, JSON.stringify(put.body.error)).toBe(200);
    // As written: no defaults added, `successRate` as the schema names it.
    const document = (await service(cli)).document as Record<string, unknown>;
    expect(document['deploy']).toEqual(deploy);
  }, 30_000);
});
