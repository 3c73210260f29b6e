// Edits one document of a multi-document YAML file by splicing its text, so the other documents
// keep their exact text and comments. Pure.
import { parseAllDocuments, stringify } from 'yaml';

/** Text span [start, end) of each document, from its `---` (if any) to the next one's. */
function documentSpans(text: string): Array<{ start: number; end: number; explicitStart: boolean }> {
  const docs = parseAllDocuments(text);
  return docs.map((doc, i) => ({
    start: doc.range[0],
    end: docs[i + 1]?.range[0] ?? text.length,
    explicitStart: doc.directives.docStart === true,
  }));
}

/** The YAML text of one document holding `value`. */
export function yamlDocumentText(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** `text` with document `index` replaced by `value`; throws RangeError for a missing index. */
export function replaceYamlDocument(text: string, index: number, value: unknown): string {
  const span = documentSpans(text)[index];
  if (span === undefined) throw new RangeError(`no YAML document ${index}`);
  const marker = index > 0 || span.explicitStart ? '---\n' : '';
  return `${text.slice(0, span.start)}${marker}${yamlDocumentText(value)}${text.slice(span.end)}`;
}

/** `text` without document `index`; throws RangeError for a missing index. */
export function removeYamlDocument(text: string, index: number): string {
  const span = documentSpans(text)[index];
  if (span === undefined) throw new RangeError(`no YAML document ${index}`);
  return `${text.slice(0, span.start)}${text.slice(span.end)}`;
}

/** True when the text holds no document with content (only comments, markers, blanks). */
export function hasNoContent(text: string): boolean {
  return parseAllDocuments(text).every((doc) => {
    try {
      const value: unknown = doc.toJS();
      return value === null || value === undefined;
    } catch {
      return false;
    }
  });
}
