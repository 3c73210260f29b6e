// Replacing and removing one document of a multi-document YAML file, keeping the others as
// written. Pure.
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { hasNoContent, removeYamlDocument, replaceYamlDocument } from '../../../src/config/yaml-document-edit.js';

const THREE = '# header\nname: a # keep me\n---\n# about b\nname: b\n---\nname: c\n';

function names(text: string): unknown[] {
  return parseAllDocuments(text).map((d) => (d.toJS() as { name?: string } | null)?.name);
}

describe('yaml document edits', () => {
  it('replaces the middle document and keeps the others byte for byte', () => {
    const text = replaceYamlDocument(THREE, 1, { name: 'B', port: 1 });
    expect(names(text)).toEqual(['a', 'B', 'c']);
    expect(text.startsWith('# header\nname: a # keep me\n---\n')).toBe(true);
    expect(text.endsWith('---\nname: c\n')).toBe(true);
  });

  it('replaces the first document', () => {
    expect(names(replaceYamlDocument(THREE, 0, { name: 'A' }))).toEqual(['A', 'b', 'c']);
  });

  it('replaces the last document', () => {
    expect(names(replaceYamlDocument(THREE, 2, { name: 'C' }))).toEqual(['a', 'b', 'C']);
  });

  it.each([
    { index: 0, left: ['b', 'c'] },
    { index: 1, left: ['a', 'c'] },
    { index: 2, left: ['a', 'b'] },
  ])('removing document $index leaves $left', ({ index, left }) => {
    expect(names(removeYamlDocument(THREE, index)).filter((n) => n !== undefined)).toEqual(left);
  });

  it('refuses an index that does not exist', () => {
    expect(() => replaceYamlDocument(THREE, 3, {})).toThrow(RangeError);
  });

  it.each([
    { text: '', empty: true },
    { text: '# only a comment\n', empty: true },
    { text: '---\n# x\n---\n', empty: true },
    { text: 'a: 1\n', empty: false },
  ])('text $text has no content: $empty', ({ text, empty }) => {
    expect(hasNoContent(text)).toBe(empty);
  });
});
