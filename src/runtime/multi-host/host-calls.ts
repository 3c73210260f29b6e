// Waiting on a Docker host that may stop answering: a ping with an abort signal, a call that gives
// up when the host is lost, a call bounded by a timeout. Shell helpers (timers, Docker API).
import type Dockerode from 'dockerode';
import { DockmasterError } from '../../errors.js';

/** docker.ping with an abort signal (dockerode takes one; its types do not say so). */
export function pingDocker(docker: Dockerode, signal: AbortSignal): Promise<unknown> {
  return (docker as unknown as { ping(options: { abortSignal: AbortSignal }): Promise<unknown> }).ping({ abortSignal: signal });
}

/** The promise's outcome, or a DM_ERR_RUNTIME_UNAVAILABLE rejection as soon as `signal` aborts. */
export function untilLost<T>(promise: Promise<T>, signal: AbortSignal, why: () => string): Promise<T> {
  if (signal.aborted) return Promise.reject(new DockmasterError('DM_ERR_RUNTIME_UNAVAILABLE', why()));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new DockmasterError('DM_ERR_RUNTIME_UNAVAILABLE', why()));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** The value, or undefined when it takes longer than ms (the promise is left to settle). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
