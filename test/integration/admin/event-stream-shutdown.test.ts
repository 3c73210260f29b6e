// SIGTERM of `dockmaster serve` (the built CLI, a real child process) while event streams are
// open: the streams end and the gateway exits 0 instead of waiting for them. I/O: child process,
// sockets on loopback.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { configDir, startCli, type RunningCli } from '../../helpers/cli.js';
import { eventually, waitFor } from '../../helpers/eventually.js';
import { expectOpen, openEventStream, type OpenStream } from './sse-client.js';

const TOKEN = 'shutdown-test-token-42';
const ROUTE_YAML = 'kind: Route\nname: static\nmatch: {pathPrefix: /}\nupstreams: [{url: "http://127.0.0.1:9"}]\n';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

async function startGateway(): Promise<RunningCli> {
  const dir = configDir({ 'routes/static.yaml': ROUTE_YAML });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const cli = await startCli(dir, ['--drain-timeout-ms', '2000'], { DOCKMASTER_TOKEN: TOKEN });
  cleanups.push(() => {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
  });
  if (cli.child.exitCode !== null) throw new Error(`dockmaster exited at start: ${cli.stderr()}\n${cli.stdout()}`);
  return cli;
}

describe('dockmaster serve with open event streams', () => {
  it('ends the streams on SIGTERM and exits 0', async () => {
    const cli = await startGateway();
    const port = Number(new URL(cli.adminUrl).port);
    const streams: OpenStream[] = [];
    for (const path of ['/v1/events', '/v1/events?service=none', '/v1/events?since=0']) {
      const stream = expectOpen(await openEventStream(port, path, { authorization: `Bearer ${TOKEN}` }));
      cleanups.push(() => stream.close());
      streams.push(stream);
    }
    // The streams are live: each got its retry hint.
    await waitFor(() => streams.every((s) => s.parser.retryMs !== undefined), 'every stream to start');

    cli.child.kill('SIGTERM');
    const exit = await Promise.race([cli.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running 15 s after SIGTERM'), 15_000).unref())]);
    expect(exit, cli.stdout().slice(-2000)).toBe(0);
    await eventually(() => expect(streams.map((s) => s.isEnded())).toEqual([true, true, true]), { timeoutMs: 5_000 });
    expect(cli.stdout()).toContain('"msg":"stopped"');
  });
});
