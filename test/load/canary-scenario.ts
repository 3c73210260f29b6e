// The canary scenario of the Node runner (load-tests/05-canary.ts): under load, a canary at a weight
// step; once it waits there with its replicas ready, the answers of DURATION are counted per
// revision, then it is promoted. I/O through the context.
import { canaryDeploy, constantShape, loadVersion, rolloutTimings, withVersionAndDeploy } from '../../load-tests/shapes.js';
import { canaryThresholds } from '../../load-tests/thresholds.js';
import type { LoadSettings } from './load-args.js';
import { nowMs } from './open-loop.js';
import { documentWithoutRollout, restoreService } from './rollout-scenario.js';
import { sleepMs, waitRollout } from './rollout-wait.js';
import type { Scenario } from './scenario.js';

export function canaryScenario(settings: LoadSettings): Scenario {
  const weight = settings.weightPercent;
  // The load before the canary and after the promotion: a tenth of the measured step, 0.5-10 s.
  const timings = rolloutTimings(settings.durationMs);
  let original: Record<string, unknown> | undefined;
  let window: { revision: string; fromMs: number; toMs: number } | undefined;
  let succeeded = 0;
  return {
    question: `Does a canary at a ${weight}% weight step get ${weight}% of the requests (within a few points), and does its promotion fail none?`,
    // Open-ended: the load lasts until the canary is promoted, plus the tail.
    shape: constantShape(settings.ratePerSecond, settings.durationMs),
    plannedMs: 0,
    openEnded: true,
    tailMs: timings.gapMs,
    thresholds: canaryThresholds(weight),
    settingsLines: [['canary', `setWeight ${weight}, pause until promote; split measured for ${settings.durationMs / 1000} s once the canary is ready`]],
    needsService: true,
    async setup(ctx) {
      original = await documentWithoutRollout(ctx);
    },
    async drive(ctx) {
      await sleepMs(timings.leadMs, ctx.signal);
      const version = loadVersion(ctx.runId, 1);
      const document = (await ctx.admin.service()).document ?? {};
      const revision = (await ctx.admin.put(withVersionAndDeploy(document, version, canaryDeploy(weight)))).revision ?? '';
      ctx.mark('load.put', `PUT canary ${weight}%: version ${version}, revision ${revision}`, { revision });
      await waitRollout(
        ctx.admin,
        revision,
        `Paused at ${weight}% with its replicas ready`,
        (r) =>
          r.phase === 'Paused' &&
          r.weights.some((w) => w.revision === revision && w.percent === weight) &&
          r.replicas.some((c) => c.revision === revision && c.ready > 0 && c.ready === c.active),
        { timeoutMs: settings.rolloutTimeoutMs, signal: ctx.signal },
      );
      const fromMs = nowMs();
      ctx.mark('load.split', `split measured: from here for ${settings.durationMs / 1000} s`);
      await sleepMs(settings.durationMs, ctx.signal);
      window = { revision, fromMs, toMs: nowMs() };
      await ctx.admin.command('promote');
      ctx.mark('load.promote', `promote: revision ${revision}`);
      await waitRollout(ctx.admin, revision, 'Succeeded', (r) => r.phase === 'Succeeded', { timeoutMs: settings.rolloutTimeoutMs, signal: ctx.signal });
      succeeded += 1;
    },
    async teardown(ctx) {
      if (original !== undefined) await restoreService(ctx, original);
    },
    measures: () => ({ rolloutsSucceeded: succeeded, canary: window }),
  };
}
