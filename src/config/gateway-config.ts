// Loads `dockmaster.yaml` from the root of the config folder (optional: defaults without it).
// Read once at start; a bad file is fatal with every problem named. I/O (the file, and a stat of
// each TLS file its hosts name).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { GATEWAY_DEFAULTS, type GatewayConfig } from '../model/gateway.js';
import { parseYamlDocuments, withLine } from './parse-yaml-documents.js';
import { validateGatewayConfig } from './gateway-schema.js';
import { hostTlsFileProblems } from './host-tls-files.js';

export const GATEWAY_FILE = 'dockmaster.yaml';

export async function loadGatewayConfig(configDir: string): Promise<GatewayConfig> {
  const file = join(configDir, GATEWAY_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return GATEWAY_DEFAULTS;
    throw new ConfigError([{ file, path: '', message: `cannot be read: ${(error as Error).message}` }]);
  }
  const parsed = parseYamlDocuments(text, file, ['Gateway']);
  if (parsed.problems.length > 0) throw new ConfigError(parsed.problems);
  // A file with nothing but comments means the defaults.
  if (parsed.documents.length === 0) return GATEWAY_DEFAULTS;
  if (parsed.documents.length !== 1) {
    throw new ConfigError([{ file, path: '', message: `must hold exactly one 'kind: Gateway' document, found ${parsed.documents.length}` }]);
  }
  const doc = parsed.documents[0] as (typeof parsed.documents)[number];
  const result = validateGatewayConfig(doc.value, file);
  if (!result.ok) throw new ConfigError(result.problems.map((p) => withLine(p, doc)));
  const missing = await hostTlsFileProblems(result.value.hosts, file);
  if (missing.length > 0) throw new ConfigError(missing.map((p) => withLine(p, doc)));
  return result.value;
}
