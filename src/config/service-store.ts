// ServiceStore: the current valid set of services (and named policies) of a policies folder,
// reloaded when files change and edited through the admin API. A thin DocumentStore over
// `kind: Service` and `kind: Policy`. Does I/O (through it).
import type { PutResult, ServiceSpecsAdmin } from '../admin/admin-service.js';
import type { ConfigProblem } from '../errors.js';
import type { ServiceRuntime, ServiceSpec } from '../model/service.js';
import { DocumentStore, type DocumentFolder, type DocumentSource, type DocumentStoreDeps } from './document-store.js';
import {
  checkServiceSet,
  MAX_REPLICAS,
  POLICY_FOLDER_KINDS,
  validatePolicyFolderDocument,
  type PolicyFolderDocument,
  type PolicySpec,
  type ServiceDocument,
} from './service-schema.js';

type RuntimeType = ServiceRuntime['type'];

export interface ServiceStoreDeps extends DocumentStoreDeps<ServiceDocument> {
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
   * and formatting. */
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

function policiesFolder(runtimes: readonly RuntimeType[] | undefined): DocumentFolder<PolicyFolderDocument, ServiceDocument> {
  return {
    config: 'services',
    component: 'service-store',
    kinds: POLICY_FOLDER_KINDS,
    validate: validatePolicyFolderDocument,
    checkSet: (documents) => [...checkServiceSet(documents), ...(runtimes === undefined ? [] : runtimeProblems(documents, runtimes))],
    publish: (specs) => specs.filter(isService),
  };
}

export class ServiceStore implements ServiceStoreAdmin {
  private readonly store: DocumentStore<PolicyFolderDocument, ServiceDocument>;
  private readonly dir: string;

  constructor(deps: ServiceStoreDeps) {
    this.dir = deps.dir;
    this.store = new DocumentStore(policiesFolder(deps.runtimes), deps);
  }

  /** Every accepted service, in file then document order (frozen, defaults filled in). */
  list(): readonly ServiceDocument[] {
    return this.store.list();
  }

  get(name: string): ServiceDocument | undefined {
    return this.store.find('Service', name) as ServiceDocument | undefined;
  }

  /** Named deploy / autoscale policies (`kind: Policy`): stored and listed, not used yet. */
  policies(): readonly PolicySpec[] {
    return this.store
      .all()
      .map(({ spec }) => spec)
      .filter(isPolicy);
  }

  policy(name: string): PolicySpec | undefined {
    return this.store.find('Policy', name) as PolicySpec | undefined;
  }

  /** Reads the folder. Throws ConfigError with every problem; then the previous set stays. */
  load(): Promise<void> {
    return this.store.load();
  }

  /** Starts reloading on file changes (fs.watch, debounced) and on a slow poll. */
  watch(): void {
    this.store.watch();
  }

  /** Stops watching and waits for a reload or edit in progress. */
  close(): Promise<void> {
    return this.store.close();
  }

  /** Reads the folder again and applies it if it changed and is valid; never throws. */
  reload(): Promise<void> {
    return this.store.reload();
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
