// Persists each service's deployment state (rollout in progress, stable revision, revision
// history) as one JSON file per service in the state folder, written atomically (temp file,
// fsync, rename), so a restarted dockmaster resumes where it was. I/O shell.
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../config/document-store.js';
import type { Logger } from '../observability/logger.js';
import type { ServiceDeployState } from '../model/rollout.js';

/** Bumped when the stored shape changes incompatibly; other formats are set aside, not parsed. */
export const STATE_FORMAT = 1;

export class StateStore {
  private folder: string;
  private readonly logger: Logger;
  /** Last text written per service, and the write in progress (writes of one service queue). */
  private readonly written = new Map<string, string>();
  private readonly chains = new Map<string, Promise<void>>();

  constructor(dir: string, logger: Logger) {
    this.folder = dir;
    this.logger = logger;
  }

  get dir(): string {
    return this.folder;
  }

  /** Moves to another folder before anything was loaded (dockmaster.yaml's stateDir). */
  useDir(dir: string): void {
    this.folder = dir;
  }

  private file(service: string): string {
    return `${service}.json`;
  }

  /** The stored state, or undefined when there is none or it cannot be used (then logged and
   * renamed aside as `<service>.json.corrupt-<time>` so nothing is lost). */
  async load<T>(service: string): Promise<ServiceDeployState<T> | undefined> {
    const path = join(this.dir, this.file(service));
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.logger.error({ service, file: path, err: (error as Error).message }, 'deployment state could not be read; starting without it');
      return undefined;
    }
    try {
      const state = JSON.parse(text) as ServiceDeployState<T>;
      if (state.format !== STATE_FORMAT || state.service !== service || !Array.isArray(state.revisions)) throw new Error(`not a format ${STATE_FORMAT} state of service ${service}`);
      this.written.set(service, text);
      return state;
    } catch (error) {
      const aside = `${path}.corrupt-${Date.now()}`;
      await rm(aside, { force: true });
      await rename(path, aside).catch(() => undefined);
      this.logger.error({ service, file: path, movedTo: aside, err: (error as Error).message }, 'deployment state is unreadable; set aside, starting without it');
      return undefined;
    }
  }

  /** Writes the state if it differs from what was last written; resolves when it is on disk. */
  save<T>(state: ServiceDeployState<T>): Promise<void> {
    const text = `${JSON.stringify(state, null, 2)}\n`;
    const service = state.service;
    const previous = this.chains.get(service) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (this.written.get(service) === text) return;
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      // 0600: replica templates carry the service's env, which may hold secrets.
      await writeFileAtomic(this.dir, this.file(service), text, 0o600);
      this.written.set(service, text);
    });
    const logged = next.catch((error: unknown) => {
      this.logger.error({ service, dir: this.dir, err: (error as Error).message }, 'deployment state could not be written');
    });
    this.chains.set(service, logged);
    return logged;
  }

  /** Forgets a removed service. */
  async remove(service: string): Promise<void> {
    await (this.chains.get(service) ?? Promise.resolve());
    this.chains.delete(service);
    this.written.delete(service);
    await rm(join(this.dir, this.file(service)), { force: true });
  }

  /** Waits for every queued write. */
  async flush(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }
}
