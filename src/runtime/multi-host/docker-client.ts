// Opens the dockerode client of one Docker host: its endpoint, and its TLS files read from disk.
// Shell (reads files).
import { readFileSync } from 'node:fs';
import Dockerode from 'dockerode';
import { DockmasterError } from '../../errors.js';
import { dockerConnectionOptions, type DockerTlsMaterial } from './docker-endpoint.js';
import type { DockerHostEntry } from './docker-host-entry.js';

function readPem(hostName: string, what: string, file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new DockmasterError('DM_ERR_CONFIG_READ', `host ${hostName}: TLS ${what} file ${file} could not be read: ${(err as Error).message}`, { host: hostName, file });
  }
}

/** A client for the host's endpoint (never pins an API version). */
export function dockerClientFor(entry: DockerHostEntry): Dockerode {
  const name = entry.name;
  const tls: DockerTlsMaterial = {
    ca: readPem(name, 'ca', entry.tls?.ca),
    cert: readPem(name, 'cert', entry.tls?.cert),
    key: readPem(name, 'key', entry.tls?.key),
  };
  const options = dockerConnectionOptions(name, entry.dockerEndpoint, tls);
  return options === undefined ? new Dockerode() : new Dockerode(options);
}
