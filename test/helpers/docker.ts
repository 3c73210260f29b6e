// Docker helpers for integration tests: is a daemon there, the demo image, test-run labels and
// cleanup. Test helper; does I/O (Docker API, runs the image build script).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';

/** Label on every container (and network) a test creates: `dockmaster.test-run=<id>`. */
export const TEST_RUN_LABEL = 'dockmaster.test-run';
export const DEMO_IMAGE = 'dockmaster-demo:latest';

const BUILD_SCRIPT = fileURLToPath(new URL('../../src/demo/build-image.sh', import.meta.url));

/** True when DOCKMASTER_REQUIRE_DOCKER=1: Docker tests must fail rather than skip. */
export function dockerRequired(): boolean {
  return process.env['DOCKMASTER_REQUIRE_DOCKER'] === '1';
}

/** True when a Docker daemon answers a ping within timeoutMs. */
export async function dockerAvailable(docker: Dockerode = new Dockerode(), timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([docker.ping().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Decides whether a Docker test file runs: returns true to skip (after printing why), false to
 * run. With DOCKMASTER_REQUIRE_DOCKER=1 and no daemon it throws, so the file fails instead of
 * skipping. Use at the top of a test file: `const skip = await skipWithoutDocker('docker driver');`
 * then `describe.skipIf(skip)(...)`.
 */
export async function skipWithoutDocker(what: string): Promise<boolean> {
  if (await dockerAvailable()) return false;
  if (dockerRequired()) {
    throw new Error(`${what}: DOCKMASTER_REQUIRE_DOCKER=1 but no Docker daemon answers (start dockerd; see DESIGN.md "Testing")`);
  }
  console.warn(`\n  [skip] ${what}: no Docker daemon answers; Docker tests skipped (set DOCKMASTER_REQUIRE_DOCKER=1 to fail instead)\n`);
  return true;
}

/** A fresh id for `dockmaster.test-run`. */
export function newTestRunId(): string {
  return `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** Builds the demo image with src/demo/build-image.sh (idempotent: quick when up to date). */
export async function ensureDemoImage(): Promise<void> {
  await promisify(execFile)('sh', [BUILD_SCRIPT, DEMO_IMAGE], { timeout: 120_000 });
}

/** Removes every container and network labelled with this test run (leftovers included). */
export async function removeTestRun(runId: string, docker: Dockerode = new Dockerode()): Promise<void> {
  const filters = { label: [`${TEST_RUN_LABEL}=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  const networks = await docker.listNetworks({ filters });
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
}

/** Creates a user-defined bridge network for this test run; Docker's default bridge is absent
 * when dockerd runs with --bridge=none. Published ports still bind 127.0.0.1 only. */
export async function createTestBridgeNetwork(runId: string, docker: Dockerode = new Dockerode()): Promise<string> {
  const name = `dockmaster-test-${runId}`;
  await docker.createNetwork({ Name: name, Driver: 'bridge', Labels: { [TEST_RUN_LABEL]: runId } });
  return name;
}
