// DocumentStore: the last valid document set of one config folder (routes/, policies/), reloaded
// on file changes and edited through the admin API; generic over kinds, wrapped by RouteStore and
// ServiceStore. Does I/O: reads, watches and atomically rewrites files.
import { watch, type FSWatcher } from 'node:fs';
import { open, rename, rm, unlink } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import type { PutResult } from '../admin/admin-service.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { withLine } from './parse-yaml-documents.js';
import { parseYamlFiles, readYamlFiles, type YamlFileText } from './read-yaml-dir.js';
import { setYamlDocumentField } from './yaml-document-set-in.js';
import { hasNoContent, removeYamlDocument, replaceYamlDocument, yamlDocumentText } from './yaml-document-edit.js';

/** Editors write a file in several steps; wait for the burst to settle before reading. */
export const DEFAULT_RELOAD_DEBOUNCE_MS = 100;
/** fs.watch misses events on some file systems (network mounts, some containers): poll too. */
export const DEFAULT_RELOAD_POLL_INTERVAL_MS = 2_000;

/** Every stored document has a kind and a name; (kind, name) addresses it in put and delete. */
export interface NamedDocument {
  readonly kind: string;
  readonly name: string;
}

/** A validated document and the file it came from (or would be written to). */
export interface DocumentSource<T> {
  readonly spec: T;
  readonly file: string;
  /** The document as parsed from YAML, before defaults (what a client edits and writes back). */
  readonly written?: unknown;
}

export type DocumentValidation<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** What differs between folders: the kinds they hold and how documents and sets are checked. */
export interface DocumentFolder<T extends NamedDocument, P> {
  /** Plural noun for logs: 'routes', 'services'. */
  readonly config: string;
  /** Logger component: 'route-store'. */
  readonly component: string;
  /** Kinds the folder may hold; any other kind is a problem. */
  readonly kinds: readonly string[];
  /** Validates one document whose `kind` is one of `kinds`; problems carry the file and path. */
  validate(value: unknown, file: string): DocumentValidation<T>;
  /** Problems of the set as a whole (names used twice, ...), in document order. */
  checkSet(documents: readonly DocumentSource<T>[]): ConfigProblem[];
  /** The part of the set that onChange receives; "changed" compares only this. */
  publish(specs: readonly T[]): readonly P[];
}

export type ReloadSource = 'file' | 'api';

export interface DocumentStoreDeps<P> {
  readonly dir: string;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'configReloadsTotal' | 'configLastReloadSuccess' | 'configLastReloadTimestampSeconds'>;
  /** Called with the whole new published set after every accepted change (also the first load).
   * Not called when a reload finds the same set. */
  readonly onChange: (specs: readonly P[]) => void;
  readonly debounceMs?: number;
  /** 0 turns polling off. */
  readonly pollIntervalMs?: number;
  readonly nowMs?: () => number;
}

interface Evaluation<T> {
  readonly documents: readonly DocumentSource<T>[];
  readonly problems: readonly ConfigProblem[];
}

/** A plain file name in the folder: no separators, not hidden, no `..`. */
const SAFE_FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Identity of what was read, so a reload of unchanged files is skipped. */
function snapshotKey(files: readonly YamlFileText[], readProblems: readonly ConfigProblem[]): string {
  return JSON.stringify([files.map((f) => [f.name, f.text]), readProblems]);
}

function sortedByName(files: readonly YamlFileText[]): YamlFileText[] {
  return [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Writes to a hidden temp file in the same folder, then renames: readers see old or new, whole. */
export async function writeFileAtomic(dir: string, name: string, text: string, mode = 0o644): Promise<void> {
  const temp = join(dir, `.${name}.${process.pid}.${randomUUID()}.tmp`);
  const handle = await open(temp, 'w', mode);
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

/**
 * Holds the last valid set of a folder. A set is valid when every file parses, every document
 * validates and the set checks pass; an invalid one is rejected whole (load throws ConfigError
 * with every problem, reload logs and counts it) and the previous set keeps serving. Reloads,
 * loads and edits run one at a time.
 */
export class DocumentStore<T extends NamedDocument, P = T> {
  private readonly folder: DocumentFolder<T, P>;
  private readonly deps: DocumentStoreDeps<P>;
  private readonly logger: Logger;
  private readonly nowMs: () => number;
  private documents: readonly DocumentSource<T>[] = [];
  private published: readonly P[] = Object.freeze([]);
  /** JSON of the accepted published set; undefined until the first accepted load. */
  private fingerprint: string | undefined;
  /** Key of the last snapshot evaluated, accepted or not. */
  private lastSnapshotKey: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(folder: DocumentFolder<T, P>, deps: DocumentStoreDeps<P>) {
    this.folder = folder;
    this.deps = deps;
    this.logger = deps.logger.child({ component: folder.component, dir: deps.dir });
    this.nowMs = deps.nowMs ?? Date.now;
  }

  /** The published part of the accepted set (frozen), in file then document order. */
  list(): readonly P[] {
    return this.published;
  }

  /** Every accepted document with its file, in file then document order. */
  all(): readonly DocumentSource<T>[] {
    return this.documents;
  }

  find(kind: T['kind'], name: string): T | undefined {
    return this.documents.find(({ spec }) => spec.kind === kind && spec.name === name)?.spec;
  }

  /** The document as written in its file (parsed YAML, no defaults added). */
  written(kind: T['kind'], name: string): unknown {
    return this.documents.find(({ spec }) => spec.kind === kind && spec.name === name)?.written;
  }

  /** Reads the folder. Throws ConfigError with every problem; then the previous set stays. */
  async load(): Promise<void> {
    await this.serialize(async () => {
      const read = await readYamlFiles(this.deps.dir);
      this.lastSnapshotKey = snapshotKey(read.files, read.problems);
      const evaluation = this.evaluate(read.files);
      const problems = [...read.problems, ...evaluation.problems];
      if (problems.length > 0) {
        this.recordRejected('file', problems);
        throw new ConfigError(problems);
      }
      this.accept(evaluation.documents, 'file');
    });
  }

  /** Starts reloading on file changes (fs.watch, debounced) and on a slow poll. */
  watch(): void {
    if (this.closed || this.watcher !== undefined || this.pollTimer !== undefined) return;
    try {
      this.watcher = watch(this.deps.dir, { persistent: false }, () => this.scheduleReload());
      this.watcher.on('error', (error) => {
        this.logger.warn({ err: error }, `watching the ${this.folder.config} folder failed; polling only`);
        this.watcher?.close();
      });
    } catch (error) {
      this.logger.warn({ err: error }, `cannot watch the ${this.folder.config} folder; polling only`);
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
      const evaluation = this.evaluate(read.files);
      const problems = [...read.problems, ...evaluation.problems];
      if (problems.length > 0) this.recordRejected('file', problems);
      else this.accept(evaluation.documents, 'file');
    }).catch((error: unknown) => {
      this.logger.error({ err: error }, `reloading ${this.folder.config} failed`);
    });
  }

  /**
   * Validates `body` as the whole `kind` document named `name` together with the rest of the
   * folder; on success writes it (replacing its document in its file, or as `<name>.yaml`) and
   * applies the new set at once. On failure nothing changes. `body` may leave out `kind` and
   * `name`; when given they must match.
   */
  async put(kind: T['kind'], name: string, body: unknown): Promise<PutResult> {
    return this.serialize(async () => {
      const read = await readYamlFiles(this.deps.dir);
      if (read.problems.length > 0) return { ok: false, problems: read.problems };
      const existing = this.findDocument(read.files, kind, name);
      const targetName = existing?.name ?? `${name}.yaml`;
      // A label for problems only until the name is validated; never resolved as a path before.
      const targetFile = SAFE_FILE_NAME.test(targetName) ? join(this.deps.dir, targetName) : `${this.deps.dir}/${targetName}`;

      if (!isRecord(body)) {
        return {
          ok: false,
          problems: [{ file: targetFile, path: '', message: `must be a mapping (JSON object) describing the ${kind.toLowerCase()}` }],
        };
      }
      const problems: ConfigProblem[] = [];
      if (body['kind'] !== undefined && body['kind'] !== kind) {
        problems.push({ file: targetFile, path: '/kind', message: `must be '${kind}', or be left out` });
      }
      if (body['name'] !== undefined && body['name'] !== name) {
        problems.push({ file: targetFile, path: '/name', message: `must be '${name}' as in the URL, or be left out` });
      }
      const { kind: _bodyKind, name: _bodyName, ...rest } = body;
      const document = { kind, name, ...rest };
      const validation = this.folder.validate(document, targetFile);
      if (!validation.ok) problems.push(...validation.problems);
      if (problems.length > 0) return { ok: false, problems };

      // Only now is `name` known to be a valid name, which is a safe file name.
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
      const file = join(this.deps.dir, targetName);
      const result = await this.commit(read.files, { name: targetName, file, text });
      return result.ok ? { ok: true, created: existing === undefined } : result;
    });
  }

  /**
   * Sets one field of the `kind` document named `name` in its file, keeping the file's comments
   * and formatting, if the folder stays a valid set. Undefined when there is no such document.
   */
  async setField(kind: T['kind'], name: string, path: readonly string[], value: number | boolean | string): Promise<PutResult | undefined> {
    return this.serialize(async () => {
      const read = await readYamlFiles(this.deps.dir);
      if (read.problems.length > 0) return { ok: false, problems: read.problems };
      const existing = this.findDocument(read.files, kind, name);
      const current = existing && read.files.find((f) => f.name === existing.name);
      if (existing === undefined || current === undefined) return undefined;
      const text = setYamlDocumentField(current.text, existing.index, path, value);
      const result = await this.commit(read.files, { ...current, text });
      return result.ok ? { ok: true, created: false } : result;
    });
  }

  /** Removes the document (its file when nothing else is left in it). Throws ConfigError when
   * the folder without it is not a valid set. False when there is no such document. */
  async delete(kind: T['kind'], name: string): Promise<boolean> {
    return this.serialize(async () => {
      const read = await readYamlFiles(this.deps.dir);
      if (read.problems.length > 0) throw new ConfigError(read.problems);
      const existing = this.findDocument(read.files, kind, name);
      const current = existing && read.files.find((f) => f.name === existing.name);
      if (existing === undefined || current === undefined) return false;

      const text = removeYamlDocument(current.text, existing.index);
      const removeFile = hasNoContent(text);
      const others = read.files.filter((f) => f.name !== existing.name);
      const files = removeFile ? others : sortedByName([...others, { ...current, text }]);
      const evaluation = this.evaluate(files);
      if (evaluation.problems.length > 0) throw new ConfigError(evaluation.problems);

      if (removeFile) await unlink(current.file);
      else await writeFileAtomic(this.deps.dir, current.name, text);
      this.lastSnapshotKey = snapshotKey(files, []);
      this.accept(evaluation.documents, 'api');
      return true;
    });
  }

  /** Validates the folder with `changed` in place of its file; if valid, writes and applies it. */
  private async commit(files: readonly YamlFileText[], changed: YamlFileText): Promise<PutResult> {
    const next = sortedByName([...files.filter((f) => f.name !== changed.name), changed]);
    const evaluation = this.evaluate(next);
    if (evaluation.problems.length > 0) return { ok: false, problems: [...evaluation.problems] };
    await writeFileAtomic(this.deps.dir, changed.name, changed.text);
    this.lastSnapshotKey = snapshotKey(next, []);
    this.accept(evaluation.documents, 'api');
    return { ok: true, created: false };
  }

  /** Validates files as one set: every document, then the set as a whole. */
  private evaluate(files: readonly YamlFileText[]): Evaluation<T> {
    const parsed = parseYamlFiles(files, this.folder.kinds);
    const problems: ConfigProblem[] = [...parsed.problems];
    const documents: Array<DocumentSource<T>> = [];
    for (const doc of parsed.documents) {
      const result = this.folder.validate(doc.value, doc.file);
      if (result.ok) documents.push({ spec: result.value, file: doc.file, written: doc.value });
      else problems.push(...result.problems.map((problem) => withLine(problem, doc)));
    }
    problems.push(...this.folder.checkSet(documents));
    return { documents, problems };
  }

  /** The file name and document index of the `kind` document named `name`, valid or not. */
  private findDocument(files: readonly YamlFileText[], kind: string, name: string): { name: string; index: number } | undefined {
    for (const file of files) {
      const parsed = parseYamlFiles([file], this.folder.kinds);
      const doc = parsed.documents.find((d) => d.kind === kind && d.value['name'] === name);
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

  private accept(documents: readonly DocumentSource<T>[], source: ReloadSource): void {
    const published = Object.freeze([...this.folder.publish(documents.map((d) => d.spec))]);
    const fingerprint = JSON.stringify(published);
    const changed = fingerprint !== this.fingerprint;
    this.documents = Object.freeze([...documents]);
    this.published = published;
    this.fingerprint = fingerprint;

    const { metrics } = this.deps;
    const { config } = this.folder;
    metrics.configReloadsTotal.inc({ source, result: 'success' });
    metrics.configLastReloadSuccess.set(1);
    metrics.configLastReloadTimestampSeconds.set(this.nowMs() / 1000);
    this.logger.info(
      { event: 'config_reload', config, source, result: 'success', [config]: published.length, documents: documents.length, changed },
      `${config} loaded`,
    );
    if (!changed) return;
    try {
      this.deps.onChange(published);
    } catch (error) {
      this.logger.error({ err: error }, `applying the new ${config} failed`);
    }
  }

  private recordRejected(source: ReloadSource, problems: readonly ConfigProblem[]): void {
    const { metrics } = this.deps;
    const { config } = this.folder;
    metrics.configReloadsTotal.inc({ source, result: 'failure' });
    metrics.configLastReloadSuccess.set(0);
    this.logger.error(
      { event: 'config_reload', config, source, result: 'failure', problems },
      `${config} rejected; the previous ${config} keep serving`,
    );
  }

  private serialize<R>(task: () => Promise<R>): Promise<R> {
    const run = this.queue.then(task, task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

/**
 * The lifecycle every folder store exposes (load, watch, reload, close), delegated to its
 * DocumentStore; RouteStore and ServiceStore add their own kinds' reads and edits.
 */
export abstract class FolderStore<T extends NamedDocument, P = T> {
  protected readonly store: DocumentStore<T, P>;

  protected constructor(store: DocumentStore<T, P>) {
    this.store = store;
  }

  /** Reads the folder. Throws ConfigError with every problem; then the previous set stays. */
  load(): Promise<void> {
    return this.store.load();
  }

  /** Starts reloading on file changes (fs.watch, debounced) and on a slow poll. */
  watch(): void {
    this.store.watch();
  }

  /** Stops watching and waits for a reload or edit in progress. */
  close(): Promise<void> {
    return this.store.close();
  }

  /** Reads the folder again and applies it if it changed and is valid; never throws. */
  reload(): Promise<void> {
    return this.store.reload();
  }
}
