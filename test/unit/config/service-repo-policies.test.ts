// The repo's own policies/ folder (the demo service and the example deploy policy) must always
// load, its command must point at the demo app, and its commented examples (Docker runtime,
// version, deploy, autoscale) must be valid once uncommented. Reads files only.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveServices, validatePolicyFolderDocument, validateServiceSpec } from '../../../src/config/service-schema.js';
import { ServiceStore } from '../../../src/config/service-store.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createMetrics } from '../../../src/observability/metrics.js';

const REPO_DIR = fileURLToPath(new URL('../../..', import.meta.url));
const POLICIES_DIR = `${REPO_DIR}/policies`;

async function loadRepoPolicies(): Promise<ServiceStore> {
  const store = new ServiceStore({
    dir: POLICIES_DIR,
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(new Registry()),
    runtimes: ['process'],
    onChange: () => undefined,
  });
  await store.load();
  await store.close();
  return store;
}

/** The lines from `# <key>:` on, uncommented, as YAML (the file's commented examples). */
async function uncommented(file: string, key: string): Promise<Record<string, unknown>> {
  const lines = (await readFile(`${POLICIES_DIR}/${file}`, 'utf8')).split('\n');
  const start = lines.findIndex((line) => line.startsWith(`# ${key}:`));
  expect(start).toBeGreaterThan(0);
  return parse(lines[start]?.replace(/^# ?/, '') ?? '') as Record<string, unknown>;
}

describe('the repo policies folder', () => {
  it('holds the demo service: 3 process replicas of the demo app with fast health checks', async () => {
    const store = await loadRepoPolicies();
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

  it('holds the example policy careful: a canary with analysis, nothing referring to it', async () => {
    const store = await loadRepoPolicies();
    const careful = store.policy('careful')?.deploy;
    expect(careful?.strategy).toBe('canary');
    expect(careful?.progressDeadlineMs).toBe(120000);
    expect(careful?.canary).toEqual({
      steps: [{ setWeight: 10 }, { pause: { durationMs: 30000 } }, { setWeight: 50 }, { pause: { durationMs: 30000 } }],
      stickySessions: false,
      analysis: { intervalMs: 10000, minRequests: 20, failureLimit: 0, minSuccessRate: 0.99, latency: { percentile: 'p99', maxMs: 500 } },
    });
    expect(store.list().every((service) => service.deploy === undefined)).toBe(true);
  });

  it('has commented version and deploy examples that are valid once uncommented, the deploy following careful', async () => {
    const demo = parse(await readFile(`${POLICIES_DIR}/demo.yaml`, 'utf8')) as Record<string, unknown>;
    const examples = { ...(await uncommented('demo.yaml', 'version')), ...(await uncommented('demo.yaml', 'deploy')) };
    expect(examples).toEqual({ version: '1.0.0', deploy: { policy: 'careful' } });
    const service = validateServiceSpec({ ...demo, ...examples }, 'demo.yaml');
    const policy = validatePolicyFolderDocument(parse(await readFile(`${POLICIES_DIR}/careful.yaml`, 'utf8')), 'careful.yaml');
    if (!service.ok || !policy.ok) throw new Error('examples must be valid');
    const [resolved] = resolveServices([service.value, policy.value]);
    expect(resolved?.version).toBe('1.0.0');
    expect(resolved?.deploy?.strategy).toBe('canary');
  });

  it('has a commented autoscale example that is valid once uncommented', async () => {
    const lines = (await readFile(`${POLICIES_DIR}/demo.yaml`, 'utf8')).split('\n');
    const start = lines.indexOf('# autoscale:');
    expect(start).toBeGreaterThan(0);
    const end = lines.findIndex((line, i) => i > start && !line.startsWith('#   '));
    const example = parse(
      lines
        .slice(start, end)
        .map((line) => line.replace(/^# /, ''))
        .join('\n'),
    ) as Record<string, unknown>;
    const demo = parse(lines.join('\n')) as Record<string, unknown>;
    const result = validateServiceSpec({ ...demo, ...example }, 'demo.yaml');
    expect(result.ok ? result.value.autoscale : result.problems).toMatchObject({
      minReplicas: 1,
      maxReplicas: 6,
      targetRps: 50,
      targetLatencyP95Ms: 200,
      scaleDown: { stabilizationWindowMs: 60000, selectPolicy: 'max' },
    });
  });
});
