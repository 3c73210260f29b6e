// The rollout scenario of the Node runner (load-tests/04-rollout.ts): under load, a rolling then a
// blue-green update (new `version`s PUT through the admin API), each awaited until Succeeded; then
// the service's own deploy section goes back. I/O through the context.
import { BLUE_GREEN_DEPLOY, constantShape, loadVersion, restoredDocument, ROLLING_DEPLOY, rolloutTimings, withVersionAndDeploy } from '../../load-tests/shapes.js';
import { ROLLOUT_THRESHOLDS } from '../../load-tests/thresholds.js';
import type { LoadSettings } from './load-args.js';
import { rolloutRunning, sleepMs, waitRollout } from './rollout-wait.js';
import type { Scenario, ScenarioContext } from './scenario.js';

/** Puts the document the run found back, with the version the service runs now; aborts an update
 * that is still running first. Shared with the canary scenario. */
export async function restoreService(ctx: ScenarioContext, original: Record<string, unknown>): Promise<void> {
  const view = await ctx.admin.service();
  if (rolloutRunning(view)) {
    await ctx.admin.command('abort');
    ctx.mark('load.abort', `${view.rollout?.id ?? 'the rollout'} still ran at the end: aborted`);
  }
  const version = (await ctx.admin.service()).document?.['version'];
  await ctx.admin.put(restoredDocument(original, typeof version === 'string' ? version : undefined));
}

/** Stops the run before any load when a rollout runs already; returns the service's document. */
export async function documentWithoutRollout(ctx: ScenarioContext): Promise<Record<string, unknown>> {
  const view = await ctx.admin.service();
  if (rolloutRunning(view)) throw new Error(`a rollout of ${ctx.settings.service} runs already (${view.rollout?.id} ${view.rollout?.phase}): wait for it or abort it first`);
  if (view.document === undefined) throw new Error(`GET /v1/services/${ctx.settings.service} shows no document: is it a service dockmaster runs?`);
  return view.document;
}

export function rolloutScenario(settings: LoadSettings): Scenario {
  const timings = rolloutTimings(settings.durationMs);
  const updates = [
    { name: 'rolling', deploy: ROLLING_DEPLOY },
    { name: 'blue-green', deploy: BLUE_GREEN_DEPLOY },
  ] as const;
  let original: Record<string, unknown> | undefined;
  let succeeded = 0;
  return {
    question: 'Do a rolling update and then a blue-green update go through under load without one failed request?',
    shape: constantShape(settings.ratePerSecond, settings.durationMs),
    plannedMs: settings.durationMs,
    openEnded: true,
    tailMs: timings.gapMs,
    thresholds: ROLLOUT_THRESHOLDS,
    settingsLines: [['updates', `rolling (${JSON.stringify(ROLLING_DEPLOY.rolling)}) after ${timings.leadMs / 1000} s, blue-green (${JSON.stringify(BLUE_GREEN_DEPLOY.blueGreen)}) ${timings.gapMs / 1000} s after it`]],
    needsService: true,
    async setup(ctx) {
      original = await documentWithoutRollout(ctx);
    },
    async drive(ctx) {
      await sleepMs(timings.leadMs, ctx.signal);
      for (const [i, update] of updates.entries()) {
        if (i > 0) await sleepMs(timings.gapMs, ctx.signal);
        const version = loadVersion(ctx.runId, i + 1);
        const document = (await ctx.admin.service()).document ?? {};
        const revision = (await ctx.admin.put(withVersionAndDeploy(document, version, update.deploy))).revision ?? '';
        ctx.mark('load.put', `PUT ${update.name}: version ${version}, revision ${revision}`, { revision, strategy: update.name });
        await waitRollout(ctx.admin, revision, 'Succeeded', (r) => r.phase === 'Succeeded', { timeoutMs: settings.rolloutTimeoutMs, signal: ctx.signal });
        succeeded += 1;
      }
    },
    async teardown(ctx) {
      if (original !== undefined) await restoreService(ctx, original);
    },
    measures: () => ({ rolloutsSucceeded: succeeded }),
  };
}
