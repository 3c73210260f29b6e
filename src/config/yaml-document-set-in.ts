// Sets one field of one document of a (multi-document) YAML file, keeping comments and the other
// documents' exact text. Pure.
import { isScalar, parseAllDocuments } from 'yaml';

/**
 * `text` with the field at `path` of document `index` set to `value` (created if missing). When
 * the field already holds a plain value, only that value's characters change, so the rest of the
 * file stays byte for byte; otherwise the document is re-printed through the `yaml` Document API
 * (setIn + toString), which keeps its comments. Throws RangeError for a missing document.
 */
export function setYamlDocumentField(text: string, index: number, path: readonly string[], value: number | boolean | string): string {
  const docs = parseAllDocuments(text);
  const doc = docs[index];
  if (doc === undefined) throw new RangeError(`no YAML document ${index}`);
  if (doc.errors.length > 0) throw new SyntaxError(`YAML document ${index} does not parse: ${doc.errors[0]?.message ?? ''}`);

  const node = doc.getIn(path, true);
  if (isScalar(node) && node.range != null && typeof node.value !== 'object') {
    const [start, end] = node.range;
    const source = typeof value === 'string' ? JSON.stringify(value) : String(value);
    return `${text.slice(0, start)}${source}${text.slice(end)}`;
  }

  doc.setIn(path, value);
  // The first document also owns the comments and directives before it, which toString prints.
  const start = index === 0 ? 0 : doc.range[0];
  const end = docs[index + 1]?.range[0] ?? text.length;
  return `${text.slice(0, start)}${doc.toString()}${text.slice(end)}`;
}
