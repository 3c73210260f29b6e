// Parses the text of one YAML config file into its documents, each with its `kind`, and locates
// JSON paths back to lines. Generic over kinds (routes, services, policies). Pure.
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { ConfigProblem } from '../errors.js';

export interface YamlDocument {
  /** The file as the caller named it (folder joined with the file name). */
  readonly file: string;
  /** Position among the file's documents, counting from 0 (empty documents included). */
  readonly index: number;
  readonly kind: string;
  /** Plain JavaScript value of the document (a mapping with at least `kind`). */
  readonly value: Readonly<Record<string, unknown>>;
  /** 1-based line where the document's content starts. */
  readonly line: number;
  /** 1-based line of the field at a JSON path, or of its nearest parent that exists. */
  lineOf(path: string): number;
}

export interface ParsedYamlFile {
  readonly documents: YamlDocument[];
  readonly problems: ConfigProblem[];
}

/** Files larger than this are refused rather than parsed: config is small, a mistake is not. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
const MAX_ALIAS_COUNT = 100;

function pointerSegments(path: string): string[] {
  if (path === '') return [];
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function lineLocator(doc: Document, lineCounter: LineCounter, fallbackLine: number): (path: string) => number {
  return (path) => {
    let node: unknown = doc.contents;
    let offset = doc.contents?.range?.[0];
    for (const segment of pointerSegments(path)) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
        if (pair === undefined) break;
        offset = isScalar(pair.key) ? pair.key.range?.[0] : offset;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined) break;
        offset = (item as { range?: [number, number, number] }).range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
    }
    return offset === undefined ? fallbackLine : lineCounter.linePos(offset).line;
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Appends the line of the problem's field, for problems found in a parsed document. */
export function withLine(problem: ConfigProblem, doc: Pick<YamlDocument, 'lineOf'>): ConfigProblem {
  return { ...problem, message: `${problem.message} (line ${doc.lineOf(problem.path)})` };
}

/**
 * Splits `text` into documents (`---`). A YAML syntax error makes the whole file a problem with
 * its line and column, and no document of it is returned. Empty documents are skipped; a
 * document that is not a mapping, has no `kind`, or has a kind not in `knownKinds` is a problem.
 */
export function parseYamlDocuments(text: string, file: string, knownKinds: readonly string[]): ParsedYamlFile {
  const problems: ConfigProblem[] = [];
  const documents: YamlDocument[] = [];
  if (Buffer.byteLength(text) > MAX_CONFIG_FILE_BYTES) {
    return { documents, problems: [{ file, path: '', message: `file is larger than ${MAX_CONFIG_FILE_BYTES} bytes` }] };
  }
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  for (const doc of docs) {
    for (const error of doc.errors) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      problems.push({ file, path: '', message: `YAML syntax error at line ${line}, column ${col}: ${error.message}` });
    }
  }
  if (problems.length > 0) return { documents, problems };

  docs.forEach((doc, index) => {
    if (doc.contents === null) return;
    const line = lineCounter.linePos(doc.contents.range?.[0] ?? doc.range[0]).line;
    const where = docs.length > 1 ? `document ${index + 1} (line ${line})` : `line ${line}`;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      problems.push({ file, path: '', message: `${where}: ${(error as Error).message}` });
      return;
    }
    if (value === null || value === undefined) return;
    if (!isRecord(value)) {
      problems.push({ file, path: '', message: `${where}: a document must be a mapping with a 'kind' key` });
      return;
    }
    const kind = value['kind'];
    if (kind === undefined) {
      problems.push({ file, path: '/kind', message: `${where}: 'kind' is required (one of ${knownKinds.join(', ')})` });
      return;
    }
    if (typeof kind !== 'string' || !knownKinds.includes(kind)) {
      problems.push({
        file,
        path: '/kind',
        message: `${where}: unknown kind ${JSON.stringify(kind)} (this folder holds ${knownKinds.join(', ')})`,
      });
      return;
    }
    documents.push({ file, index, kind, value, line, lineOf: lineLocator(doc, lineCounter, line) });
  });
  return { documents, problems };
}
