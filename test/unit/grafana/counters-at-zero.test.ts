// The counters whose first event a dashboard must show start at 0: increase() and rate() see no
// event in a series born with it. Pure (an in-memory prom-client registry).
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { METRIC } from '../../../src/observability/metric-names.js';
import { createMetrics, startAutoscaleCountersAtZero, startServiceCountersAtZero } from '../../../src/observability/metrics.js';

interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

async function samples(registry: Registry, name: string, suffix = ''): Promise<string[]> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`${name} is not registered`);
  const { values } = (await metric.get()) as { values: Sample[] };
  return values
    .filter((s) => (s.metricName ?? name) === `${name}${suffix}`)
    .map((s) => `${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',')} ${s.value}`)
    .sort();
}

describe('counters a dashboard counts from their first event', () => {
  it('start at 0 for config reloads of every source and result when the metrics are created', async () => {
    const registry = new Registry();
    createMetrics(registry);
    expect(await samples(registry, METRIC.configReloadsTotal)).toEqual([
      'source=api,result=failure 0',
      'source=api,result=success 0',
      'source=file,result=failure 0',
      'source=file,result=success 0',
    ]);
  });

  it("start at 0 for a service's restarts, failed starts, health changes and analysis verdicts", async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    startServiceCountersAtZero(metrics, 'api');
    expect(await samples(registry, METRIC.replicaRestartsTotal)).toEqual(['service=api 0']);
    expect(await samples(registry, METRIC.replicaStartFailuresTotal)).toEqual(['service=api 0']);
    expect(await samples(registry, METRIC.replicaHealthChangesTotal)).toEqual(['service=api,to=healthy 0', 'service=api,to=unhealthy 0']);
    expect(await samples(registry, METRIC.rolloutAnalysisIntervalsTotal)).toEqual(['service=api,verdict=fail 0', 'service=api,verdict=inconclusive 0', 'service=api,verdict=pass 0']);
  });

  it("start at 0 for an autoscaled service's decisions, held requests and cold starts", async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    startAutoscaleCountersAtZero(metrics, 'api');
    expect(await samples(registry, METRIC.autoscaleDecisionsTotal)).toEqual(['service=api,direction=down 0', 'service=api,direction=up 0']);
    expect(await samples(registry, METRIC.proxyHeldRequestsTotal)).toEqual(
      ['cancelled', 'client_gone', 'overflow', 'served', 'timeout'].map((result) => `service=api,result=${result} 0`),
    );
    expect(await samples(registry, METRIC.autoscaleColdStartSeconds, '_count')).toEqual(['service=api 0']);
  });

  it('keep what was counted when a service starts again (its controller or autoscaling restarted)', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    startServiceCountersAtZero(metrics, 'api');
    startAutoscaleCountersAtZero(metrics, 'api');
    metrics.replicaRestartsTotal.inc({ service: 'api' });
    metrics.autoscaleDecisionsTotal.inc({ service: 'api', direction: 'up' });
    metrics.coldStartSeconds.observe({ service: 'api' }, 0.4);
    startServiceCountersAtZero(metrics, 'api');
    startAutoscaleCountersAtZero(metrics, 'api');
    expect(await samples(registry, METRIC.replicaRestartsTotal)).toEqual(['service=api 1']);
    expect(await samples(registry, METRIC.autoscaleDecisionsTotal)).toContain('service=api,direction=up 1');
    expect(await samples(registry, METRIC.autoscaleColdStartSeconds, '_count')).toEqual(['service=api 1']);
    expect(await samples(registry, METRIC.autoscaleColdStartSeconds, '_sum')).toEqual(['service=api 0.4']);
  });
});
