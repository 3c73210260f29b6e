// RouteStore: the current valid route set of a routes folder, reloaded when files change and
// edited through the admin API. A thin DocumentStore over `kind: Route`. Does I/O (through it).
import type { PutResult, RoutesAdmin } from '../admin/admin-service.js';
import type { RouteSpec } from '../model/route.js';
import { checkRouteSet } from './check-route-set.js';
import { DocumentStore, FolderStore, type DocumentFolder, type DocumentStoreDeps } from './document-store.js';
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

export class RouteStore extends FolderStore<RouteSpec> implements RoutesAdmin {
  constructor(deps: RouteStoreDeps) {
    super(new DocumentStore(ROUTES_FOLDER, deps));
  }

  list(): readonly RouteSpec[] {
    return this.store.list();
  }

  get(name: string): RouteSpec | undefined {
    return this.store.find('Route', name);
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
