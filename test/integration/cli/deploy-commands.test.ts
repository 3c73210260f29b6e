// The deployment commands of the CLI (deploy, promote, pause, resume, abort, rollback, revisions,
// status with rollouts) run as real child processes against a real gateway whose canary service
// runs the demo app as local processes.
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { CLI_PATH, configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { eventually } from '../../helpers/eventually.js';
import type { ServiceView } from '../../../src/admin/admin-service.js';

const DEMO_APP = resolve(import.meta.dirname, '../../../src/demo/demo-app.mjs');
const ROLLOUT_WAIT_MS = 30_000;
const COMMAND_TIMEOUT_MS = 30_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Two replicas of the demo app, version 1, rolled out as a canary that stops at 50% until promoted. */
const SERVICE_YAML = `kind: Service
name: demo
runtime:
  type: process
  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(DEMO_APP)}]
replicas: 2
version: "1"
env: {DEMO_LATENCY_MS: "0"}
health: {path: /healthz, intervalMs: 200, timeoutMs: 200, healthyThreshold: 1, unhealthyThreshold: 2}
stopGraceMs: 2000
drainTimeoutMs: 1000
deploy:
  strategy: canary
  progressDeadlineMs: 60000
  canary:
    steps: [{setWeight: 50}, {pause: {}}]
`;

const ROUTE_YAML = 'kind: Route\nname: demo\nmatch: {pathPrefix: /}\nservice: demo\n';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `dockmaster ARGS --admin <the gateway>` to its end. */
function dm(cli: RunningCli, ...args: string[]): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args, '--admin', cli.adminUrl], { env: { ...process.env, DOCKMASTER_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

async function service(cli: RunningCli): Promise<ServiceView> {
  const res = await request(`${cli.adminUrl}/v1/services/demo`);
  expect(res.statusCode).toBe(200);
  return (await res.body.json()) as ServiceView;
}

/** The version the demo app answering through the proxy reports. */
async function answeringVersion(cli: RunningCli): Promise<string> {
  const res = await request(`${cli.proxyUrl}/who`);
  return ((await res.body.json()) as { version: string }).version;
}

async function serveDemo(): Promise<{ cli: RunningCli; revision: string }> {
  const dir = configDir({ 'routes/demo.yaml': ROUTE_YAML, 'policies/demo.yaml': SERVICE_YAML });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const cli = await startCli(dir);
  cleanups.push(async () => {
    if (cli.child.exitCode === null) {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
  const view = await eventually(async () => {
    const now = await service(cli);
    expect(now.replicas?.filter((r) => r.state === 'ready')).toHaveLength(2);
    expect(now.stableRevision).toBe(now.revision);
    return now;
  }, { timeoutMs: 20_000 });
  return { cli, revision: view.revision ?? '' };
}

/** Deploys and returns the revision the started rollout goes to. */
async function deployVersion(cli: RunningCli, version: string, from: string, rolloutId: string, extra: string[] = []): Promise<string> {
  const deployed = await dm(cli, 'deploy', 'demo', '--version', version, ...extra);
  expect(deployed.stderr).toBe('');
  expect(deployed.code).toBe(0);
  const to = (await service(cli)).revision ?? '';
  expect(to).not.toBe(from);
  expect(deployed.stdout).toContain(`service/demo: rollout ${rolloutId} started: ${from} -> ${to} (canary)`);
  return to;
}

/** Waits until the canary `id` waits at its pause step with 50% of the traffic. */
async function pausedAtHalf(cli: RunningCli, id: string, stable: string, canary: string): Promise<void> {
  await eventually(async () => {
    expect((await service(cli)).rollout).toMatchObject({
      id,
      phase: 'Paused',
      step: { index: 1, total: 2 },
      weights: [
        { revision: stable, percent: 50 },
        { revision: canary, percent: 50 },
      ],
    });
  }, { timeoutMs: ROLLOUT_WAIT_MS });
}

async function succeeded(cli: RunningCli, id: string, revision: string): Promise<void> {
  await eventually(async () => {
    const now = await service(cli);
    expect(now.rollout).toMatchObject({ id, phase: 'Succeeded' });
    expect(now.stableRevision).toBe(revision);
    const replicas = now.replicas ?? [];
    expect(replicas.map((r) => `${r.revision} ${r.state}`)).toEqual([`${revision} ready`, `${revision} ready`]);
  }, { timeoutMs: ROLLOUT_WAIT_MS });
}

describe('dockmaster deploy, promote, revisions and rollback', () => {
  it('rolls a new version out as a canary, shows it in status, promotes it, rolls back to the first revision, and supersedes only when asked', async () => {
    const { cli, revision: rev1 } = await serveDemo();

    const rev2 = await deployVersion(cli, '2', rev1, 'demo#1');
    await pausedAtHalf(cli, 'demo#1', rev1, rev2);

    const status = await dm(cli, 'status', 'demo');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`rollout:   demo#1 deploy ${rev1} -> ${rev2} (canary)`);
    expect(status.stdout).toMatch(/phase: {5}Paused, started \d+s ago/);
    expect(status.stdout).toContain('step:      1/2: pause until promote');
    expect(status.stdout).toContain(`weights:   ${rev1} 50%, ${rev2} 50%`);
    expect(status.stdout).toContain(`replicas:  ${rev1} 2/2 ready, ${rev2} 1/1 ready`);
    expect(status.stdout).toMatch(/condition: Paused: /);
    const all = await dm(cli, 'status');
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(/ROLLOUT$/);
    expect(all.stdout).toContain(`Paused ${rev1} 50%, ${rev2} 50%`);

    // Another version while the canary runs: refused with the gateway's reason, nothing changes.
    const refused = await dm(cli, 'deploy', 'demo', '--version', '3');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('DM_ERR_DEPLOY_IN_PROGRESS: rollout demo#1');
    expect(refused.stderr).toContain('would supersede it');
    expect(refused.stderr).toContain('--supersede');
    expect(await service(cli)).toMatchObject({ revision: rev2, rollout: { id: 'demo#1', phase: 'Paused' } });

    const promoted = await dm(cli, 'promote', 'demo');
    expect(promoted.stderr).toBe('');
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toMatch(/^service\/demo: promoted; rollout demo#1 /);
    await succeeded(cli, 'demo#1', rev2);
    expect(await answeringVersion(cli)).toBe('2');

    const same = await dm(cli, 'deploy', 'demo', '--version', '2');
    expect(same.code).toBe(0);
    expect(same.stdout.trim()).toBe(`service/demo: no change (revision ${rev2})`);

    const revisions = await dm(cli, 'revisions', 'demo');
    expect(revisions.code).toBe(0);
    const rows = revisions.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^REVISION +VERSION +STATE +REPLICAS +CREATED +SERVED +RUNS$/);
    expect(rows[1]).toMatch(new RegExp(`^${rev2} +2 +stable, spec +2 `));
    expect(rows[2]).toMatch(new RegExp(`^${rev1} +1 +- +0 `));

    const rolledBack = await dm(cli, 'rollback', 'demo', '--to', rev1.slice(0, 6));
    expect(rolledBack.stderr).toBe('');
    expect(rolledBack.code).toBe(0);
    expect(rolledBack.stdout).toMatch(new RegExp(`^service/demo: rollback ${rev2} -> ${rev1}; rollout demo#2 ${rev2} -> ${rev1} `));
    // A rollback is fast-tracked: the canary skips its steps (no pause to promote).
    await succeeded(cli, 'demo#2', rev1);
    expect((await service(cli)).rollout?.kind).toBe('rollback');
    expect(await answeringVersion(cli)).toBe('1');
    const afterRollback = await dm(cli, 'revisions', 'demo');
    expect(afterRollback.stdout).toMatch(new RegExp(`\n${rev2} +2 +spec, held back +0 `));
    expect(afterRollback.stdout).toMatch(new RegExp(`\n${rev1} +1 +stable +2 `));

    // A new canary, then another version over it: only with --supersede.
    const rev3 = await deployVersion(cli, '3', rev1, 'demo#3');
    await pausedAtHalf(cli, 'demo#3', rev1, rev3);
    expect((await dm(cli, 'deploy', 'demo', '--version', '4')).code).toBe(1);
    const superseding = await dm(cli, 'deploy', 'demo', '--version', '4', '--supersede');
    expect(superseding.stderr).toBe('');
    expect(superseding.code).toBe(0);
    const rev4 = (await service(cli)).revision ?? '';
    expect(superseding.stdout.trim()).toBe(`service/demo: rollout demo#4 started: ${rev1} -> ${rev4} (canary), superseding demo#3`);
    await pausedAtHalf(cli, 'demo#4', rev1, rev4);
  }, 180_000);
});

describe('dockmaster pause, resume and abort', () => {
  it('pauses, resumes and aborts a canary, and refuses what does not apply with the gateway reason', async () => {
    const { cli, revision: rev1 } = await serveDemo();

    const usage = await dm(cli, 'deploy', 'demo', '--image', 'demo:2');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/DM_ERR_CLI_USAGE: --image: service 'demo' runs as a process/);
    const missing = await dm(cli, 'deploy', 'demo');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('deploy needs --image IMG or --version V');

    const rev2 = await deployVersion(cli, '2', rev1, 'demo#1');
    await pausedAtHalf(cli, 'demo#1', rev1, rev2);

    const paused = await dm(cli, 'pause', 'demo');
    expect(paused.stderr).toBe('');
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/^service\/demo: paused; rollout demo#1 /);
    expect((await service(cli)).rollout).toMatchObject({ phase: 'Paused', paused: true });
    expect((await dm(cli, 'status', 'demo')).stdout).toMatch(/phase: {5}Paused \(paused by command\)/);
    const again = await dm(cli, 'pause', 'demo');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('DM_ERR_DEPLOY_NOT_ALLOWED: rollout demo#1 is already paused');

    const resumed = await dm(cli, 'resume', 'demo');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^service\/demo: resumed; /);
    // The pause is lifted; the canary still waits at its pause step for promote or resume.
    expect((await service(cli)).rollout).toMatchObject({ phase: 'Paused', paused: false, step: { index: 1 } });

    const json = await dm(cli, 'abort', 'demo', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ message: 'aborting', rollout: { id: 'demo#1' } });
    await eventually(async () => {
      const now = await service(cli);
      expect(now.rollout).toMatchObject({ id: 'demo#1', phase: 'Aborted' });
      expect(now.replicas?.map((r) => `${r.revision} ${r.state}`)).toEqual([`${rev1} ready`, `${rev1} ready`]);
    }, { timeoutMs: ROLLOUT_WAIT_MS });
    expect(await answeringVersion(cli)).toBe('1');
    const status = await dm(cli, 'status', 'demo');
    expect(status.stdout).toMatch(/phase: {5}Aborted, finished \d+s ago/);
    expect(status.stdout).toContain(`revision:  ${rev2}\nstable:    ${rev1}\n`);
    expect(status.stdout).toMatch(/condition: Aborted: /);
    expect((await dm(cli, 'status')).stdout.split('\n')[0]).not.toContain('ROLLOUT');

    const noRollout = await dm(cli, 'abort', 'demo');
    expect(noRollout.code).toBe(1);
    expect(noRollout.stderr).toContain('DM_ERR_DEPLOY_NO_ROLLOUT: rollout demo#1 is Aborted, not running');
    const unknown = await dm(cli, 'promote', 'nosuch');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('DM_ERR_SERVICE_UNKNOWN');
    const noRevision = await dm(cli, 'rollback', 'demo', '--to', 'abcdef');
    expect(noRevision.code).toBe(1);
    expect(noRevision.stderr).toContain("DM_ERR_DEPLOY_UNKNOWN_REVISION: revision 'abcdef' is not in the history of demo");

    // The aborted version again: nothing to do, and the answer says why it does not serve.
    const held = await dm(cli, 'deploy', 'demo', '--version', '2');
    expect(held.code).toBe(0);
    expect(held.stdout).toContain(`no change (revision ${rev2}); note: ${rev1} serves and ${rev2} is held back`);

    // --strategy switches the policy's strategy and keeps its canary steps.
    const rolling = await dm(cli, 'deploy', 'demo', '--version', '3', '--strategy', 'rolling');
    expect(rolling.stderr).toBe('');
    expect(rolling.code).toBe(0);
    const rev3 = (await service(cli)).revision ?? '';
    expect(rolling.stdout.trim()).toBe(`service/demo: rollout demo#2 started: ${rev1} -> ${rev3} (rolling)`);
    await succeeded(cli, 'demo#2', rev3);
    expect((await service(cli)).spec?.deploy).toMatchObject({ strategy: 'rolling', canary: { steps: [{ setWeight: 50 }, { pause: {} }] } });
  }, 180_000);
});
