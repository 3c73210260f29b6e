// The process driver: the RuntimeDriver contract plus what only processes have (no orphans on
// SIGKILL of dockmaster, log piping, the free-port race). Integration: real child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { ProcessDriver } from '../../../src/runtime/process/process-driver.js';
import { findFreePort } from '../../../src/runtime/ports.js';
import { templateRevision } from '../../../src/runtime/revision.js';
import type { ReplicaTemplate, RuntimeDriver } from '../../../src/runtime/runtime-driver.js';
import { eventually } from '../../helpers/eventually.js';
import { isProcessAlive, tsNodeArgs } from '../../helpers/processes.js';
import { runtimeContract } from './contract.js';

const DEMO_APP = fileURLToPath(new URL('../../../src/demo/demo-app.mjs', import.meta.url));
const ORPHAN_PARENT = fileURLToPath(new URL('./fixtures/orphan-parent.ts', import.meta.url));
const silent = createLogger({ level: 'silent' });

function demoTemplate(service: string, env: Readonly<Record<string, string>> = {}): ReplicaTemplate {
  const runtime = { kind: 'process' as const, command: [process.execPath, DEMO_APP] };
  return { service, revision: templateRevision({ runtime, env, port: 0 }), runtime, port: 0, env, stopGraceMs: 1_000 };
}

runtimeContract(
  'process',
  async () => {
    const drivers: RuntimeDriver[] = [];
    const open = (): ProcessDriver => {
      const driver = new ProcessDriver({ logger: silent });
      drivers.push(driver);
      return driver;
    };
    return {
      driver: open(),
      template: demoTemplate,
      killFromOutside: async (replica) => {
        process.kill(Number(replica.nativeId), 'SIGKILL');
      },
      openAnother: async () => open(),
      isGone: async (replica) => !isProcessAlive(Number(replica.nativeId)),
      cleanup: async () => {
        await Promise.all(drivers.map((d) => d.close()));
      },
    };
  },
  { afterClose: 'stopped' },
);

/** Starts the orphan-parent fixture and reads its JSON lines. */
function startParent(count: number): { child: ChildProcess; next: () => Promise<{ pids: number[]; watchdogPid: number }> } {
  const child = spawn(process.execPath, [...tsNodeArgs(), ORPHAN_PARENT, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l !== ''));
  });
  let read = 0;
  const next = async (): Promise<{ pids: number[]; watchdogPid: number }> => {
    const line = await eventually(
      () => {
        const l = lines[read];
        expect(l, 'a line from orphan-parent').toBeDefined();
        return l as string;
      },
      { timeoutMs: 15_000 },
    );
    read += 1;
    return JSON.parse(line) as { pids: number[]; watchdogPid: number };
  };
  return { child, next };
}

describe('process driver: no orphans', () => {
  const parents: ChildProcess[] = [];
  afterAll(() => {
    for (const p of parents) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });

  it('SIGKILL of the dockmaster process ends its replicas (via the watchdog)', async () => {
    const { child, next } = startParent(2);
    parents.push(child);
    const { pids, watchdogPid } = await next();
    expect(pids).toHaveLength(2);
    expect(pids.every(isProcessAlive)).toBe(true);
    expect(isProcessAlive(watchdogPid)).toBe(true);

    child.kill('SIGKILL');
    await eventually(() => expect(pids.filter(isProcessAlive)).toEqual([]), { timeoutMs: 5_000 });
    await eventually(() => expect(isProcessAlive(watchdogPid)).toBe(false), { timeoutMs: 5_000 });
  });

  it('a killed watchdog is replaced, and the replacement still ends the replicas', async () => {
    const { child, next } = startParent(2);
    parents.push(child);
    const first = await next();
    process.kill(first.watchdogPid, 'SIGKILL');
    const second = await next();
    expect(second.watchdogPid).not.toBe(first.watchdogPid);
    expect(first.pids.every(isProcessAlive)).toBe(true);

    child.kill('SIGKILL');
    await eventually(() => expect(first.pids.filter(isProcessAlive)).toEqual([]), { timeoutMs: 5_000 });
  });
});

describe('process driver: logs, ports, failures', () => {
  it('pipes replica stdout and stderr into the logger, line by line, with service and replica', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const driver = new ProcessDriver({ logger: createLogger({ destination }) });
    try {
      const script = "process.stdout.write('one\\ntwo'); setTimeout(() => { process.stdout.write(' halves\\n'); process.stderr.write('oops\\n'); require('http').createServer().listen(process.env.PORT, '127.0.0.1'); }, 50);";
      const runtime = { kind: 'process' as const, command: [process.execPath, '-e', script] };
      const replica = await driver.start({ service: 'logs', revision: 'r9', runtime, port: 0, env: {}, stopGraceMs: 500 }, 'x1');
      await eventually(() => {
        const fromReplica = lines.filter((l) => l['replica'] === 'x1' && l['service'] === 'logs' && typeof l['stream'] === 'string');
        expect(fromReplica.map((l) => [l['stream'], l['msg']])).toEqual([
          ['stdout', 'one'],
          ['stdout', 'two halves'],
          ['stderr', 'oops'],
        ]);
      });
      await driver.stop(replica.id, 500);
    } finally {
      await driver.close();
    }
  });

  it('retries on another port when the chosen one is taken before the replica binds it', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const takenPort = (squatter.address() as net.AddressInfo).port;
    const offered: number[] = [];
    const driver = new ProcessDriver({
      logger: silent,
      findFreePort: async () => {
        const port = offered.length === 0 ? takenPort : await findFreePort();
        offered.push(port);
        return port;
      },
    });
    try {
      const replica = await driver.start(demoTemplate('race'), 'r1');
      expect(offered).toHaveLength(2);
      expect(replica.origin).toBe(`http://127.0.0.1:${offered[1]}`);
      const body = (await (await fetch(`${replica.origin}/`)).json()) as { port: number };
      expect(body.port).toBe(offered[1]);
    } finally {
      await driver.close();
      squatter.close();
    }
  });

  it('fails a start when the command does not exist', async () => {
    const driver = new ProcessDriver({ logger: silent });
    try {
      const runtime = { kind: 'process' as const, command: ['/nonexistent/dockmaster-test-binary'] };
      await expect(driver.start({ service: 'nope', revision: 'r1', runtime, port: 0, env: {}, stopGraceMs: 100 }, 'r1')).rejects.toMatchObject({
        code: 'DM_ERR_RUNTIME_START',
        message: expect.stringContaining('ENOENT'),
      });
      expect(await driver.list()).toEqual([]);
    } finally {
      await driver.close();
    }
  });

  it('fails a start that never opens its port within the start timeout, and kills it', async () => {
    const driver = new ProcessDriver({ logger: silent, startTimeoutMs: 400 });
    try {
      const runtime = { kind: 'process' as const, command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'] };
      const startedAtMs = Date.now();
      await expect(driver.start({ service: 'mute', revision: 'r1', runtime, port: 0, env: {}, stopGraceMs: 100 }, 'r1')).rejects.toMatchObject({
        code: 'DM_ERR_RUNTIME_START',
        message: expect.stringContaining('did not accept connections'),
      });
      expect(Date.now() - startedAtMs).toBeLessThan(3_000);
      expect(await driver.list()).toEqual([]);
    } finally {
      await driver.close();
    }
  });

  it('does not pass dockmaster settings (DOCKMASTER_TOKEN) on to replicas', async () => {
    process.env['DOCKMASTER_TOKEN'] = 'secret-for-test';
    const driver = new ProcessDriver({ logger: silent });
    try {
      const script =
        "require('http').createServer((q, s) => s.end(JSON.stringify({ token: process.env.DOCKMASTER_TOKEN ?? null, replica: process.env.DOCKMASTER_REPLICA }))).listen(process.env.PORT, '127.0.0.1')";
      const runtime = { kind: 'process' as const, command: [process.execPath, '-e', script] };
      const replica = await driver.start({ service: 'env', revision: 'r1', runtime, port: 0, env: { EXTRA: '1' }, stopGraceMs: 100 }, 'e1');
      expect(await (await fetch(`${replica.origin}/`)).json()).toEqual({ token: null, replica: 'e1' });
    } finally {
      delete process.env['DOCKMASTER_TOKEN'];
      await driver.close();
    }
  });
});
