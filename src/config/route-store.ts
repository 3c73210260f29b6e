// RouteStore: the current valid route set of a routes folder, reloaded when files change and
// edited through the admin API. Does I/O: reads, watches and atomically rewrites files.
import { watch, type FSWatcher } from 'node:fs';
import { open, rename, rm, unlink } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import type { PutResult, RoutesAdmin } from '../admin/admin-service.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { RouteSpec } from '../model/route.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { checkRouteSet } from './check-route-set.js';
import { withLine } from './parse-yaml-documents.js';
import { parseYamlFiles, readYamlFiles, type YamlFileText } from './read-yaml-dir.js';
import { isRouteName, validateRouteSpec } from './route-schema.js';
import { hasNoContent, removeYamlDocument, replaceYamlDocument, yamlDocumentText } from './yaml-document-edit.js';

/** Editors write a file in several steps; wait for the burst to settle before reading. */
export const DEFAULT_RELOAD_DEBOUNCE_MS = 100;
/** fs.watch misses events on some file systems (network mounts, some containers): poll too. */
export const DEFAULT_RELOAD_POLL_INTERVAL_MS = 2_000;

const ROUTE_KINDS = ['Route'] as const;

export interface RouteStoreDeps {
  readonly dir: string;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'configReloadsTotal' | 'configLastReloadSuccess' | 'configLastReloadTimestampSeconds'>;
  /** Called with the whole new set after every accepted change (also the first load); the app
   * compiles it and swaps the routing table. Not called when a reload finds the same routes. */
  readonly onChange: (specs: readonly RouteSpec[]) => void;
  readonly debounceMs?: number;
  /** 0 turns polling off. */
  readonly pollIntervalMs?: number;
  readonly nowMs?: () => number;
}

interface RouteEntry {
  readonly spec: RouteSpec;
  readonly file: string;
}

interface Evaluation {
  readonly entries: readonly RouteEntry[];
  readonly problems: readonly ConfigProblem[];
}

type ReloadSource = 'file' | 'api';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a folder's files as one route set: every document, then the set as a whole. */
function evaluateFiles(files: readonly YamlFileText[]): Evaluation {
  const parsed = parseYamlFiles(files, ROUTE_KINDS);
  const problems: ConfigProblem[] = [...parsed.problems];
  const entries: RouteEntry[] = [];
  for (const doc of parsed.documents) {
    const result = validateRouteSpec(doc.value, doc.file);
    if (result.ok) entries.push({ spec: result.value, file: doc.file });
    else problems.push(...result.problems.map((problem) => withLine(problem, doc)));
  }
  problems.push(...checkRouteSet(entries));
  return { entries, problems };
}

/** Identity of what was read, so a reload of unchanged files is skipped. */
function snapshotKey(files: readonly YamlFileText[], readProblems: readonly ConfigProblem[]): string {
  return JSON.stringify([files.map((f) => [f.name, f.text]), readProblems]);
}

function sortedByName(files: readonly YamlFileText[]): YamlFileText[] {
  return [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Writes to a hidden temp file in the same folder, then renames: readers see old or new, whole. */
async function writeFileAtomic(dir: string, name: string, text: string): Promise<void> {
  const temp = join(dir, `.${name}.${process.pid}.${randomUUID()}.tmp`);
  const handle = await open(temp, 'w', 0o644);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, join(dir, name));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export class RouteStore implements RoutesAdmin {
  private readonly deps: RouteStoreDeps;
  private readonly logger: Logger;
  private readonly nowMs: () => number;
  private entries: readonly RouteEntry[] = [];
  private specs: readonly RouteSpec[] = Object.freeze([]);
  /** JSON of the accepted specs; undefined until the first accepted load. */
  private fingerprint: string | undefined;
  /** Key of the last snapshot evaluated, accepted or not. */
  private lastSnapshotKey: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(deps: RouteStoreDeps) {
    this.deps = deps;
    this.logger = deps.logger.child({ component: 'route-store', dir: deps.dir });
    this.nowMs = deps.nowMs ?? Date.now;
  }

  list(): readonly RouteSpec[] {
    return this.specs;
  }

  get(name: string): RouteSpec | undefined {
    return this.entries.find((entry) => entry.spec.name === name)?.spec;
  }

  /** Reads the folder. Throws ConfigError with every problem; then the previous set stays. */
  async load(): Promise<void> {
    await this.serialize(async () => {
      const read = await readYamlFiles(this.deps.dir);
      this.lastSnapshotKey = snapshotKey(read.files, read.problems);
      const evaluation = evaluateFiles(read.files);
      const problems = [...read.problems, ...evaluation.problems];
      if (problems.length > 0) {
        this.recordRejected('file', problems);
        throw new ConfigError(problems);
      }
      this.accept(evaluation.entries, 'file');
    });
  }

  /** Starts reloading on file changes (fs.watch, debounced) and on a slow poll. */
  watch(): void {
    if (this.closed || this.watcher !== undefined || this.pollTimer !== undefined) return;
    try {
      this.watcher = watch(this.deps.dir, { persistent: false }, () => this.scheduleReload());
      this.watcher.on('error', (error) => {
        this.logger.warn({ err: error }, 'watching the routes folder failed; polling only');
        this.watcher?.close();
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot watch the routes folder; polling only');
    }
    const pollMs = this.deps.pollIntervalMs ?? DEFAULT_RELOAD_POLL_INTERVAL_MS;
    if (pollMs > 0) {
      this.pollTimer = setInterval(() => this.scheduleReload(), pollMs);
      this.pollTimer.unref();
    }
  }

  /** Stops watching and waits for a reload or edit in progress. */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
    await this.queue;
  }

  /** Reads the folder again and applies it if it changed and is valid; never throws. */
  async reload(): Promise<void> {
    await this.serialize(async () => {
      const read = await readYamlFiles(this.deps.dir);
      const key = snapshotKey(read.files, read.problems);
      if (key === this.lastSnapshotKey) return;
      this.lastSnapshotKey = key;
      const evaluation = evaluateFiles(read.files);
      const problems = [...read.problems, ...evaluation.problems];
      if (problems.length > 0) this.recordRejected('file', problems);
      else this.accept(evaluation.entries, 'file');
    }).catch((error: unknown) => {
      this.logger.error({ err: error }, 'reloading routes failed');
    });
  }

  async put(name: string, body: unknown): Promise<PutResult> {
    return this.serialize(async () => {
      const read = await readYamlFiles(this.deps.dir);
      if (read.problems.length > 0) return { ok: false, problems: read.problems };
      const existing = this.findDocument(read.files, name);
      const targetName = existing?.name ?? `${name}.yaml`;
      // A label for problems only until the name is validated; never joined into a real path.
      const targetFile = isRouteName(name) ? join(this.deps.dir, targetName) : `${this.deps.dir}/${targetName}`;

      if (!isRecord(body)) {
        return { ok: false, problems: [{ file: targetFile, path: '', message: 'must be a mapping (JSON object) describing the route' }] };
      }
      const problems: ConfigProblem[] = [];
      if (body['name'] !== undefined && body['name'] !== name) {
        problems.push({ file: targetFile, path: '/name', message: `must be '${name}' as in the URL, or be left out` });
      }
      const { kind, name: _bodyName, ...rest } = body;
      const document = { kind: kind ?? 'Route', name, ...rest };
      const validation = validateRouteSpec(document, targetFile);
      if (!validation.ok) problems.push(...validation.problems);
      if (problems.length > 0) return { ok: false, problems };

      // Only now is `name` known to be a safe file name (a DNS label).
      const current = read.files.find((f) => f.name === targetName);
      let text: string;
      if (existing !== undefined && current !== undefined) {
        text = replaceYamlDocument(current.text, existing.index, document);
      } else if (current !== undefined) {
        const separator = current.text === '' || current.text.endsWith('\n') ? '' : '\n';
        text = `${current.text}${separator}---\n${yamlDocumentText(document)}`;
      } else {
        text = yamlDocumentText(document);
      }
      const files = sortedByName([
        ...read.files.filter((f) => f.name !== targetName),
        { name: targetName, file: targetFile, text },
      ]);
      const evaluation = evaluateFiles(files);
      if (evaluation.problems.length > 0) return { ok: false, problems: [...evaluation.problems] };

      await writeFileAtomic(this.deps.dir, targetName, text);
      this.lastSnapshotKey = snapshotKey(files, []);
      this.accept(evaluation.entries, 'api');
      return { ok: true, created: existing === undefined };
    });
  }

  /** Removes the route's document (its file when nothing else is left in it). Throws ConfigError
   * when the folder without it is not a valid set. */
  async delete(name: string): Promise<boolean> {
    return this.serialize(async () => {
      const read = await readYamlFiles(this.deps.dir);
      if (read.problems.length > 0) throw new ConfigError(read.problems);
      const existing = this.findDocument(read.files, name);
      const current = existing && read.files.find((f) => f.name === existing.name);
      if (existing === undefined || current === undefined) return false;

      const text = removeYamlDocument(current.text, existing.index);
      const removeFile = hasNoContent(text);
      const others = read.files.filter((f) => f.name !== existing.name);
      const files = removeFile ? others : sortedByName([...others, { ...current, text }]);
      const evaluation = evaluateFiles(files);
      if (evaluation.problems.length > 0) throw new ConfigError(evaluation.problems);

      if (removeFile) await unlink(current.file);
      else await writeFileAtomic(this.deps.dir, current.name, text);
      this.lastSnapshotKey = snapshotKey(files, []);
      this.accept(evaluation.entries, 'api');
      return true;
    });
  }

  /** The file name and document index of the Route document named `name`, valid or not. */
  private findDocument(files: readonly YamlFileText[], name: string): { name: string; index: number } | undefined {
    for (const file of files) {
      const parsed = parseYamlFiles([file], ROUTE_KINDS);
      const doc = parsed.documents.find((d) => d.value['name'] === name);
      if (doc !== undefined) return { name: basename(file.file), index: doc.index };
    }
    return undefined;
  }

  private scheduleReload(): void {
    if (this.closed) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.reload();
    }, this.deps.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS);
    this.debounceTimer.unref();
  }

  private accept(entries: readonly RouteEntry[], source: ReloadSource): void {
    const specs = Object.freeze(entries.map((entry) => entry.spec));
    const fingerprint = JSON.stringify(specs);
    const changed = fingerprint !== this.fingerprint;
    this.entries = entries;
    this.specs = specs;
    this.fingerprint = fingerprint;

    const { metrics } = this.deps;
    metrics.configReloadsTotal.inc({ source, result: 'success' });
    metrics.configLastReloadSuccess.set(1);
    metrics.configLastReloadTimestampSeconds.set(this.nowMs() / 1000);
    this.logger.info({ event: 'config_reload', config: 'routes', source, result: 'success', routes: specs.length, changed }, 'routes loaded');
    if (!changed) return;
    try {
      this.deps.onChange(specs);
    } catch (error) {
      this.logger.error({ err: error }, 'applying the new routes failed');
    }
  }

  private recordRejected(source: ReloadSource, problems: readonly ConfigProblem[]): void {
    const { metrics } = this.deps;
    metrics.configReloadsTotal.inc({ source, result: 'failure' });
    metrics.configLastReloadSuccess.set(0);
    this.logger.error(
      { event: 'config_reload', config: 'routes', source, result: 'failure', problems },
      'routes rejected; the previous routes keep serving',
    );
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
