// The spike scenario (load-tests/03-spike.ts from Node): the base rate, a jump to SPIKE_FACTOR x,
// back to the base rate. A service without an `autoscale:` section gets the shared one for the
// run (PUT through the admin API) and its own document back afterwards. I/O through the context.
import { spikeAutoscale, spikeShape } from '../../load-tests/shapes.js';
import { SPIKE_THRESHOLDS } from '../../load-tests/thresholds.js';
import type { LoadSettings } from './load-args.js';
import type { Scenario } from './scenario.js';

export function spikeScenario(settings: LoadSettings): Scenario {
  const spikeRate = settings.ratePerSecond * settings.spikeFactor;
  const shape = spikeShape(settings.ratePerSecond, spikeRate, settings.durationMs);
  let initialReady = 0;
  let restore: Record<string, unknown> | undefined;
  return {
    question: `When the request rate jumps from ${settings.ratePerSecond} to ${spikeRate} req/s, does the autoscaler add replicas without failed requests, and is latency back to normal after the spike?`,
    shape,
    plannedMs: settings.durationMs,
    openEnded: false,
    tailMs: 0,
    thresholds: SPIKE_THRESHOLDS,
    settingsLines: [
      ['spike', `${settings.ratePerSecond} -> ${spikeRate} req/s (x${settings.spikeFactor}); after the spike from ${shape.afterFromMs / 1000} s`],
    ],
    needsService: true,
    async setup(ctx) {
      const view = await ctx.admin.service();
      initialReady = (view.replicas ?? []).filter((r) => r.state === 'ready').length;
      if (initialReady === 0) throw new Error(`service ${settings.service} has no ready replica: nothing to spike`);
      const document = view.document;
      if (document === undefined) throw new Error(`GET /v1/services/${settings.service} shows no document: is it a service dockmaster runs?`);
      if (document['autoscale'] !== undefined) {
        ctx.mark('load.autoscale', `${settings.service} has its own autoscale section: used as it is`);
        return;
      }
      const autoscale = spikeAutoscale(initialReady, settings.ratePerSecond);
      await ctx.admin.put({ ...document, autoscale });
      restore = document;
      ctx.mark('load.autoscale', `autoscale added for the run: ${JSON.stringify(autoscale)}`);
    },
    drive: async () => undefined,
    async teardown(ctx) {
      if (restore === undefined) return;
      await ctx.admin.put(restore);
      ctx.mark('load.autoscale', 'autoscale section removed again');
    },
    measures: (ctx) => ({ afterSpikeFromMs: shape.afterFromMs, replicaGrowth: { initialReady, services: ctx.services() } }),
  };
}
