// ServiceStore: the current valid set of services (and named policies) of a policies folder,
// reloaded when files change and edited through the admin API. A thin DocumentStore over
// `kind: Service` and `kind: Policy` that publishes services with named deploy and autoscale
// policies resolved. Does I/O (through it).
import type { PutResult, ServiceSpecsAdmin } from '../admin/admin-service.js';
import type { ConfigProblem } from '../errors.js';
import type { ServiceRuntime, ServiceSpec } from '../model/service.js';
import { DocumentStore, FolderStore, type DocumentFolder, type DocumentSource, type DocumentStoreDeps } from './document-store.js';
import {
  checkServiceSet,
  MAX_REPLICAS,
  POLICY_FOLDER_KINDS,
  resolveServices,
  validatePolicyFolderDocument,
  type PolicyFolderDocument,
  type PolicySpec,
  type ResolvedService,
  type ServiceDocument,
} from './service-schema.js';

type RuntimeType = ServiceRuntime['type'];

export interface ServiceStoreDeps extends DocumentStoreDeps<ResolvedService> {
  /** Runtimes this gateway has a driver for; a service naming another one is a problem at
   * /runtime/type. Default: every runtime. */
  readonly runtimes?: readonly RuntimeType[];
}

/** The stored service specs as the admin API edits them. */
export interface ServiceStoreAdmin extends ServiceSpecsAdmin {
  list(): readonly ServiceSpec[];
  get(name: string): ServiceSpec | undefined;
  put(name: string, body: unknown): Promise<PutResult>;
  delete(name: string): Promise<boolean>;
  /** Persists only the `replicas` field of the service's document, keeping the file's comments
   * and formatting (for an autoscaled service, its starting count). */
  setReplicas(name: string, replicas: number): Promise<PutResult>;
}

function isService(spec: PolicyFolderDocument): spec is ServiceDocument {
  return spec.kind === 'Service';
}

function isPolicy(spec: PolicyFolderDocument): spec is PolicySpec {
  return spec.kind === 'Policy';
}

/** A service whose runtime has no driver here could never start a replica: reject it up front. */
function runtimeProblems(documents: readonly DocumentSource<PolicyFolderDocument>[], runtimes: readonly RuntimeType[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const { spec, file } of documents) {
    if (!isService(spec) || runtimes.includes(spec.runtime.type)) continue;
    const hint = spec.runtime.type === 'docker' ? ' (start dockmaster with --runtime docker)' : '';
    problems.push({
      file,
      path: '/runtime/type',
      message: `runtime '${spec.runtime.type}' is not enabled in this gateway (enabled: ${runtimes.join(', ')})${hint}`,
    });
  }
  return problems;
}

function policiesFolder(runtimes: readonly RuntimeType[] | undefined): DocumentFolder<PolicyFolderDocument, ResolvedService> {
  return {
    config: 'services',
    component: 'service-store',
    kinds: POLICY_FOLDER_KINDS,
    validate: validatePolicyFolderDocument,
    checkSet: (documents) => [...checkServiceSet(documents), ...(runtimes === undefined ? [] : runtimeProblems(documents, runtimes))],
    // Services with named deploy and autoscale policies resolved: a changed policy changes (and
    // re-publishes) the services that refer to it.
    publish: resolveServices,
  };
}

export class ServiceStore extends FolderStore<PolicyFolderDocument, ResolvedService> implements ServiceStoreAdmin {
  private readonly dir: string;

  constructor(deps: ServiceStoreDeps) {
    super(new DocumentStore(policiesFolder(deps.runtimes), deps));
    this.dir = deps.dir;
  }

  /** Every accepted service, in file then document order (frozen, defaults filled in, named
   * deploy and autoscale policies resolved). */
  list(): readonly ResolvedService[] {
    return this.store.list();
  }

  /** The accepted service, as list() has it (its deploy and autoscale policies resolved). */
  get(name: string): ResolvedService | undefined {
    return this.store.list().find((spec) => spec.name === name);
  }

  /** The accepted service as written: `deploy` and `autoscale` may each be a reference
   * `{ policy: NAME }`. */
  document(name: string): ServiceDocument | undefined {
    return this.store.find('Service', name) as ServiceDocument | undefined;
  }

  /** The service exactly as its file has it (parsed YAML, no defaults, a policy reference kept):
   * what GET shows as `document` for clients to edit and PUT back. */
  written(name: string): unknown {
    return this.store.written('Service', name);
  }

  /** Named deploy / autoscale policies (`kind: Policy`) that services refer to. */
  policies(): readonly PolicySpec[] {
    return this.store
      .all()
      .map(({ spec }) => spec)
      .filter(isPolicy);
  }

  policy(name: string): PolicySpec | undefined {
    return this.store.find('Policy', name) as PolicySpec | undefined;
  }

  /** Validates `body` as the whole service named `name` together with the rest of the folder;
   * on success writes it (its document in its file, or policies/<name>.yaml) and applies it. */
  put(name: string, body: unknown): Promise<PutResult> {
    return this.store.put('Service', name, body);
  }

  /** Removes the service's document (its file when nothing else is left in it). */
  delete(name: string): Promise<boolean> {
    return this.store.delete('Service', name);
  }

  async setReplicas(name: string, replicas: number): Promise<PutResult> {
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
      return { ok: false, problems: [{ file: this.dir, path: '/replicas', message: `must be an integer from 0 to ${MAX_REPLICAS}` }] };
    }
    const result = await this.store.setField('Service', name, ['replicas'], replicas);
    return result ?? { ok: false, problems: [{ file: this.dir, path: '/name', message: `no service named '${name}'` }] };
  }
}
