// The repo's own routes/ folder (the demo) must always load, and its commented example must be
// valid once uncommented. Reads files only.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseYamlDocuments } from '../../../src/config/parse-yaml-documents.js';
import { readYamlDir } from '../../../src/config/read-yaml-dir.js';
import { validateRouteSpec } from '../../../src/config/route-schema.js';

const ROUTES_DIR = fileURLToPath(new URL('../../../routes', import.meta.url));

describe('the repo routes folder', () => {
  it('holds the demo route, pointing at the demo service for every path', async () => {
    const content = await readYamlDir(ROUTES_DIR, ['Route']);
    expect(content.problems).toEqual([]);
    const specs = content.documents.map((doc) => validateRouteSpec(doc.value, doc.file));
    expect(specs.map((s) => (s.ok ? [s.value.name, s.value.match.pathPrefix, s.value.service] : s.problems))).toEqual([
      ['demo', '/', 'demo'],
    ]);
  });

  it('has a commented static-upstreams example that is valid once uncommented', async () => {
    const text = await readFile(`${ROUTES_DIR}/demo.yaml`, 'utf8');
    const lines = text.split('\n');
    const start = lines.indexOf('# ---');
    expect(start).toBeGreaterThan(0);
    const uncommented = lines
      .slice(start)
      .map((line) => line.replace(/^# ?/, ''))
      .join('\n');
    const [doc] = parseYamlDocuments(uncommented, 'demo.yaml', ['Route']).documents;
    const result = validateRouteSpec(doc?.value, 'demo.yaml');
    expect(result.ok ? result.value.upstreams?.length : result.problems).toBe(2);
  });
});
