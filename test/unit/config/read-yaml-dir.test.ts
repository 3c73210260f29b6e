// Reading a config folder: file order, several documents per file, syntax errors with lines,
// unknown kinds. Uses a temp folder (files only, no sockets).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseYamlDocuments, withLine } from '../../../src/config/parse-yaml-documents.js';
import { readYamlDir } from '../../../src/config/read-yaml-dir.js';

describe('parseYamlDocuments', () => {
  const KINDS = ['Route'];

  it('splits a file into its documents with their index and starting line', () => {
    const text = '# two routes\nkind: Route\nname: a\n---\n\nkind: Route\nname: b\n';
    const parsed = parseYamlDocuments(text, 'r.yaml', KINDS);
    expect(parsed.problems).toEqual([]);
    expect(parsed.documents.map((d) => [d.index, d.kind, d.value['name'], d.line])).toEqual([
      [0, 'Route', 'a', 2],
      [1, 'Route', 'b', 6],
    ]);
  });

  it('skips empty documents but keeps counting them', () => {
    const parsed = parseYamlDocuments('---\n# nothing\n---\nkind: Route\nname: a\n---\n', 'r.yaml', KINDS);
    expect(parsed.problems).toEqual([]);
    expect(parsed.documents.map((d) => d.index)).toEqual([1]);
  });

  const problemCases = [
    {
      name: 'a syntax error names the file, line and column',
      text: 'kind: Route\nname: a\nmatch: {pathPrefix: /a\nservice: x\n',
      message: /^YAML syntax error at line \d+, column \d+: /,
    },
    {
      name: 'a tab used as indentation is a syntax error at its line',
      text: 'kind: Route\nmatch:\n\tpathPrefix: /\n',
      message: /^YAML syntax error at line 3, column 1: /,
    },
    {
      name: 'a key given twice is a syntax error at the second one',
      text: 'kind: Route\nname: a\nname: b\n',
      message: /^YAML syntax error at line 3, column 1: Map keys must be unique/,
    },
    {
      name: 'a document with an unknown kind is a problem naming the kind',
      text: 'kind: Routes\nname: a\n',
      message: /^line 1: unknown kind "Routes" \(this folder holds Route\)$/,
    },
    {
      name: 'a document without kind is a problem',
      text: 'name: a\n',
      message: /^line 1: 'kind' is required \(one of Route\)$/,
    },
    {
      name: 'a document that is a list is a problem',
      text: '- kind: Route\n',
      message: /^line 1: a document must be a mapping with a 'kind' key$/,
    },
    {
      name: 'the second of several documents is named by number',
      text: 'kind: Route\n---\nkind: Nope\n',
      message: /^document 2 \(line 3\): unknown kind "Nope"/,
    },
  ];

  it.each(problemCases)('$name', ({ text, message }) => {
    const parsed = parseYamlDocuments(text, 'routes/bad.yaml', KINDS);
    expect(parsed.problems.length).toBeGreaterThan(0);
    expect(parsed.problems[0]?.file).toBe('routes/bad.yaml');
    expect(parsed.problems[0]?.message).toMatch(message);
  });

  it('returns no document of a file with a syntax error, even the valid ones before it', () => {
    const parsed = parseYamlDocuments('kind: Route\nname: a\n---\nkind: [\n', 'r.yaml', KINDS);
    expect(parsed.documents).toEqual([]);
  });

  it.each([
    { path: '', line: 2 },
    { path: '/match', line: 4 },
    { path: '/match/pathPrefix', line: 5 },
    { path: '/upstreams/1/url', line: 8 },
    { path: '/match/missing', line: 4 },
  ])('locates the JSON path "$path" at line $line', ({ path, line }) => {
    const text = '# c\nkind: Route\nname: a\nmatch:\n  pathPrefix: /a\nupstreams:\n  - url: http://127.0.0.1:1\n  - url: http://127.0.0.1:2\n';
    const doc = parseYamlDocuments(text, 'r.yaml', KINDS).documents[0];
    expect(doc?.lineOf(path)).toBe(line);
  });

  it('appends the line of the field to a problem', () => {
    const doc = parseYamlDocuments('kind: Route\nretries: 99\n', 'r.yaml', KINDS).documents[0];
    expect(doc).toBeDefined();
    if (doc === undefined) return;
    expect(withLine({ file: 'r.yaml', path: '/retries', message: 'too many' }, doc).message).toBe('too many (line 2)');
  });
});

describe('readYamlDir', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dockmaster-yaml-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads only *.yaml and *.yml files, sorted by name, skipping hidden ones', async () => {
    await writeFile(join(dir, 'b.yml'), 'kind: Route\nname: b\n');
    await writeFile(join(dir, 'a.yaml'), 'kind: Route\nname: a1\n---\nkind: Route\nname: a2\n');
    await writeFile(join(dir, 'c.txt'), 'kind: Route\nname: c\n');
    await writeFile(join(dir, '.a.yaml.123.tmp'), 'kind: Route\nname: tmp\n');
    await writeFile(join(dir, '.hidden.yaml'), 'kind: Route\nname: hidden\n');
    const content = await readYamlDir(dir, ['Route']);
    expect(content.problems).toEqual([]);
    expect(content.files.map((f) => f.name)).toEqual(['a.yaml', 'b.yml']);
    expect(content.documents.map((d) => [d.file, d.index, d.value['name']])).toEqual([
      [join(dir, 'a.yaml'), 0, 'a1'],
      [join(dir, 'a.yaml'), 1, 'a2'],
      [join(dir, 'b.yml'), 0, 'b'],
    ]);
  });

  it('reports problems of every file, and still returns the documents of good files', async () => {
    await writeFile(join(dir, 'a.yaml'), 'kind: Route\nname: a\n');
    await writeFile(join(dir, 'b.yaml'), 'kind: Route\nname: [\n');
    await writeFile(join(dir, 'c.yaml'), 'kind: Service\nname: c\n');
    const content = await readYamlDir(dir, ['Route']);
    expect(content.documents.map((d) => d.value['name'])).toEqual(['a']);
    expect(content.problems.map((p) => p.file)).toEqual([join(dir, 'b.yaml'), join(dir, 'c.yaml')]);
  });

  it('dispatches any kinds it is given', async () => {
    await writeFile(join(dir, 'p.yaml'), 'kind: Service\nname: s\n---\nkind: Policy\nname: p\n');
    const content = await readYamlDir(dir, ['Service', 'Policy']);
    expect(content.problems).toEqual([]);
    expect(content.documents.map((d) => d.kind)).toEqual(['Service', 'Policy']);
  });

  it('reports a missing folder as a problem naming it', async () => {
    const missing = join(dir, 'nope');
    const content = await readYamlDir(missing, ['Route']);
    expect(content.problems).toEqual([{ file: missing, path: '', message: 'cannot read folder: ENOENT' }]);
  });
});
