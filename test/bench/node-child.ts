// Bench starter (I/O): forks one of the bench's own node programs (backend, bare forwarder),
// which listens on an ephemeral 127.0.0.1 port and reports it over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isRunning, stopChild, track, uncleanExitNote, waitExit } from './children.js';

export interface ForkedChild {
  child: ChildProcess;
  port: number;
}

const START_TIMEOUT_MS = 10_000;

/** Forks `<this folder>/<script>` and waits for its `{port}` message. */
export async function forkListening(script: string, args: string[]): Promise<ForkedChild> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = track(fork(path, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script}: no port within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      child.once('message', (message: { port?: unknown }) => {
        clearTimeout(timer);
        if (typeof message.port === 'number') resolve(message.port);
        else reject(new Error(`${script}: unexpected message ${JSON.stringify(message)}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${script}: exited before listening (code ${code}, signal ${signal})`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return { child, port };
  } catch (err) {
    if (isRunning(child)) await stopChild(child, 2000);
    throw err;
  }
}

/** A stop function for a forked child: closing IPC makes it exit; SIGTERM/SIGKILL are the backstop. */
export async function stopForked(child: ChildProcess): Promise<string | undefined> {
  if (child.connected) child.disconnect();
  await waitExit(child, 1000);
  return uncleanExitNote(await stopChild(child, 3000), 3000);
}
