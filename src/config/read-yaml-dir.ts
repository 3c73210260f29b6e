// Reads every *.yaml / *.yml file of a config folder (sorted by name) into documents tagged with
// their file, index and kind. Generic over kinds. Does I/O (reads files).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { MAX_CONFIG_FILE_BYTES, parseYamlDocuments, type YamlDocument } from './parse-yaml-documents.js';

export interface YamlFileText {
  /** File name inside the folder, e.g. `api.yaml`. */
  readonly name: string;
  /** Folder joined with the name: what problems and documents call `file`. */
  readonly file: string;
  readonly text: string;
}

export interface YamlDirContent {
  /** Raw text of every file read, sorted by name; lets callers tell whether anything changed. */
  readonly files: readonly YamlFileText[];
  readonly documents: readonly YamlDocument[];
  readonly problems: readonly ConfigProblem[];
}

/** True for names the loader reads: `*.yaml` / `*.yml`, not hidden (editors' and our temp files). */
export function isConfigFileName(name: string): boolean {
  return !name.startsWith('.') && (name.endsWith('.yaml') || name.endsWith('.yml'));
}

function errorCode(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

/** Reads the raw text of the folder's config files, sorted by name (code-unit order). */
export async function readYamlFiles(dir: string): Promise<{ files: YamlFileText[]; problems: ConfigProblem[] }> {
  const files: YamlFileText[] = [];
  const problems: ConfigProblem[] = [];
  let names: string[];
  try {
    names = (await readdir(dir)).filter(isConfigFileName).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (error) {
    return { files, problems: [{ file: dir, path: '', message: `cannot read folder: ${errorCode(error)}` }] };
  }
  for (const name of names) {
    const file = join(dir, name);
    try {
      const buffer = await readFile(file);
      if (buffer.length > MAX_CONFIG_FILE_BYTES) {
        problems.push({ file, path: '', message: `file is larger than ${MAX_CONFIG_FILE_BYTES} bytes` });
        continue;
      }
      files.push({ name, file, text: buffer.toString('utf8') });
    } catch (error) {
      // Removed between listing and reading: it is simply not part of this snapshot.
      if (errorCode(error) === 'ENOENT') continue;
      problems.push({ file, path: '', message: `cannot read file: ${errorCode(error)}` });
    }
  }
  return { files, problems };
}

/** Parses already read files; split from reading so a caller can edit one file's text first. */
export function parseYamlFiles(files: readonly YamlFileText[], knownKinds: readonly string[]): Omit<YamlDirContent, 'files'> {
  const documents: YamlDocument[] = [];
  const problems: ConfigProblem[] = [];
  for (const { file, text } of files) {
    const parsed = parseYamlDocuments(text, file, knownKinds);
    documents.push(...parsed.documents);
    problems.push(...parsed.problems);
  }
  return { documents, problems };
}

/**
 * Every document of every config file in `dir`, in file-name then document order. Syntax
 * errors, unreadable files and documents whose kind is not in `knownKinds` are problems naming
 * the file; callers dispatch the documents by `kind` to their validators.
 */
export async function readYamlDir(dir: string, knownKinds: readonly string[]): Promise<YamlDirContent> {
  const read = await readYamlFiles(dir);
  const parsed = parseYamlFiles(read.files, knownKinds);
  return { files: read.files, documents: parsed.documents, problems: [...read.problems, ...parsed.problems] };
}
