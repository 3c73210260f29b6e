// RouteStore: the current valid route set of a routes folder, reloaded when files change and
// edited through the admin API. A thin DocumentStore over `kind: Route`. Does I/O (through it).
import type { PutResult, RoutesAdmin } from '../admin/admin-service.js';
import type { RouteSpec } from '../model/route.js';
import { checkRouteSet } from './check-route-set.js';
import { DocumentStore, type DocumentFolder, type DocumentStoreDeps } from './document-store.js';
import { validateRouteSpec } from './route-schema.js';

export { DEFAULT_RELOAD_DEBOUNCE_MS, DEFAULT_RELOAD_POLL_INTERVAL_MS } from './document-store.js';

/** `onChange` is called with the whole new set after every accepted change (also the first
 * load); the app compiles it and swaps the routing table. Not called when a reload finds the
 * same routes. */
export type RouteStoreDeps = DocumentStoreDeps<RouteSpec>;

const ROUTES_FOLDER: DocumentFolder<RouteSpec, RouteSpec> = {
  config: 'routes',
  component: 'route-store',
  kinds: ['Route'],
  validate: validateRouteSpec,
  checkSet: checkRouteSet,
  publish: (specs) => specs,
};

export class RouteStore implements RoutesAdmin {
  private readonly store: DocumentStore<RouteSpec>;

  constructor(deps: RouteStoreDeps) {
    this.store = new DocumentStore(ROUTES_FOLDER, deps);
  }

  list(): readonly RouteSpec[] {
    return this.store.list();
  }

  get(name: string): RouteSpec | undefined {
    return this.store.find('Route', name);
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

  put(name: string, body: unknown): Promise<PutResult> {
    return this.store.put('Route', name, body);
  }

  /** Removes the route's document (its file when nothing else is left in it). Throws ConfigError
   * when the folder without it is not a valid set. */
  delete(name: string): Promise<boolean> {
    return this.store.delete('Route', name);
  }
}
