// The repo's own policies/ folder (the demo service) must always load, its command must point
// at the demo app, and its commented Docker example must be valid once uncommented. Reads files only.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateServiceSpec } from '../../../src/config/service-schema.js';
import { ServiceStore } from '../../../src/config/service-store.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';

const REPO_DIR = fileURLToPath(new URL('../../..', import.meta.url));
const POLICIES_DIR = `${REPO_DIR}/policies`;

describe('the repo policies folder', () => {
  it('holds the demo service: 3 process replicas of the demo app with fast health checks', async () => {
    const store = new ServiceStore({
      dir: POLICIES_DIR,
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics(new Registry()),
      runtimes: ['process'],
      onChange: () => undefined,
    });
    await store.load();
    await store.close();
    expect(store.list()).toEqual([
      {
        kind: 'Service',
        name: 'demo',
        runtime: { type: 'process', command: ['node', 'src/demo/demo-app.mjs'] },
        port: 8080,
        env: { DEMO_LATENCY_MS: '0' },
        replicas: 3,
        health: { path: '/healthz', intervalMs: 500, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 2 },
        stopGraceMs: 5000,
        drainTimeoutMs: 10000,
      },
    ]);
  });

  it('runs a demo app that exists, relative to the config folder (the repo root)', async () => {
    const doc = parse(await readFile(`${POLICIES_DIR}/demo.yaml`, 'utf8')) as { runtime: { command: string[] } };
    expect(existsSync(`${REPO_DIR}/${doc.runtime.command[1]}`)).toBe(true);
  });

  it('has a commented Docker runtime example that is valid once uncommented', async () => {
    const lines = (await readFile(`${POLICIES_DIR}/demo.yaml`, 'utf8')).split('\n');
    const start = lines.indexOf('# runtime:');
    expect(start).toBeGreaterThan(0);
    const runtime = parse(
      lines
        .slice(start)
        .map((line) => line.replace(/^# ?/, ''))
        .join('\n'),
    ) as Record<string, unknown>;
    const demo = parse(lines.join('\n')) as Record<string, unknown>;
    const result = validateServiceSpec({ ...demo, ...runtime }, 'demo.yaml');
    expect(result.ok ? result.value.runtime : result.problems).toEqual({
      type: 'docker',
      image: 'dockmaster-demo:latest',
      network: 'host',
      pull: 'never',
    });
  });
});
