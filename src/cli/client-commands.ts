// The CLI commands that talk to a running gateway's admin API: status, apply, scale (the
// deployment commands are in deploy-commands.ts). I/O.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DockmasterError, formatProblems } from '../errors.js';
import { parseYamlDocuments } from '../config/parse-yaml-documents.js';
import type { ServiceView } from '../admin/admin-service.js';
import { clientFor, describeError } from './admin-client.js';
import { CLIENT_OPTIONS, usage } from './client-args.js';
import { formatService, formatServices } from './format-status.js';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export async function statusCommand(argv: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length > 1) throw usage('status takes at most one SERVICE');
  const api = clientFor(values.admin);
  const name = positionals[0];
  const answer = await api.call('GET', name === undefined ? '/v1/services' : `/v1/services/${encodeURIComponent(name)}`);
  if (answer.status !== 200) {
    io.err(describeError(answer));
    return 1;
  }
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  else if (name === undefined) io.out(formatServices((answer.body as { services: ServiceView[] }).services));
  else io.out(formatService(answer.body as ServiceView, Date.now()));
  return 0;
}

const APPLY_PATHS: Record<string, string> = { Route: '/v1/routes/', Service: '/v1/services/' };

export async function applyCommand(argv: string[], io: Output): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...CLIENT_OPTIONS, file: { type: 'string', short: 'f' } }, strict: true });
  if (values.file === undefined) throw usage('apply needs -f FILE');
  const text = await readFile(values.file, 'utf8').catch((error: Error) => {
    throw new DockmasterError('DM_ERR_CONFIG_READ', `${values.file}: ${error.message}`);
  });
  const parsed = parseYamlDocuments(text, values.file, Object.keys(APPLY_PATHS));
  if (parsed.problems.length > 0) {
    io.err(formatProblems(parsed.problems));
    return 1;
  }
  const api = clientFor(values.admin);
  let failed = 0;
  for (const doc of parsed.documents) {
    const name = doc.value['name'];
    if (typeof name !== 'string' || name === '') {
      io.err(`${doc.file}: document ${doc.index + 1} (line ${doc.line}): /name: required`);
      failed++;
      continue;
    }
    const answer = await api.call('PUT', `${APPLY_PATHS[doc.kind]}${encodeURIComponent(name)}`, doc.value);
    if (answer.status === 200 || answer.status === 201) {
      io.out(`${doc.kind.toLowerCase()}/${name} ${answer.status === 201 ? 'created' : 'configured'}`);
    } else {
      io.err(`${doc.kind.toLowerCase()}/${name}: ${describeError(answer)}`);
      failed++;
    }
  }
  return failed === 0 ? 0 : 1;
}

export async function scaleCommand(argv: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true, strict: true });
  const [name, count] = positionals;
  const replicas = Number(count);
  if (name === undefined || count === undefined || positionals.length !== 2 || !Number.isInteger(replicas) || replicas < 0) {
    throw usage('usage: dockmaster scale SERVICE N (N a whole number >= 0)');
  }
  const answer = await clientFor(values.admin).call('POST', `/v1/services/${encodeURIComponent(name)}/scale`, { replicas });
  if (answer.status !== 200) {
    io.err(describeError(answer));
    return 1;
  }
  io.out(`service/${name} scaled to ${replicas}`);
  return 0;
}
