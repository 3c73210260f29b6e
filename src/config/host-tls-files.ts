// Checks that the TLS files named by `dockmaster.yaml`'s hosts exist and can be read, so a typo in
// a path fails at load with its file, JSON path and line instead of at the first Docker call. I/O
// (stat and access on each file).
import { access, constants, stat } from 'node:fs/promises';
import type { ConfigProblem } from '../errors.js';
import type { HostConfig } from '../model/gateway.js';

async function fileProblem(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return `'${path}' is not a file`;
    await access(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `file '${path}' does not exist (relative paths are read from the config folder)`;
    return `file '${path}' cannot be read: ${code ?? (error as Error).message}`;
  }
}

/** One problem per TLS file (hosts[i].tls.ca|cert|key, already resolved to absolute paths) that is
 * missing, not a regular file, or unreadable; `file` is the dockmaster.yaml they came from. */
export async function hostTlsFileProblems(hosts: readonly HostConfig[], file: string): Promise<ConfigProblem[]> {
  const checks: Array<Promise<ConfigProblem | undefined>> = [];
  hosts.forEach((host, i) => {
    for (const key of ['ca', 'cert', 'key'] as const) {
      const path = host.tls?.[key];
      if (path === undefined) continue;
      checks.push(fileProblem(path).then((message) => (message === undefined ? undefined : { file, path: `/hosts/${i}/tls/${key}`, message })));
    }
  });
  return (await Promise.all(checks)).filter((p): p is ConfigProblem => p !== undefined);
}
