// Reads Consul's `GET /v1/catalog/services` answer (service name -> tags) and picks the services
// that carry a given tag. A whole answer of the wrong shape is a failed read. Pure.

export type CatalogTranslation =
  | { readonly ok: true; readonly services: ReadonlySet<string> }
  | { readonly ok: false; readonly error: string };

/** `{"api": ["edge", "v2"], "db": null}` with tag `edge` -> {api}. A service whose tags are not a
 * list of strings is ignored (it cannot be said to carry the tag). */
export function servicesWithTag(body: unknown, tag: string): CatalogTranslation {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: `catalog services answer is not an object (got ${Array.isArray(body) ? 'array' : body === null ? 'null' : typeof body})` };
  }
  const services = new Set<string>();
  for (const [name, tags] of Object.entries(body as Record<string, unknown>)) {
    if (name === '' || !Array.isArray(tags)) continue;
    if (tags.some((t) => t === tag)) services.add(name);
  }
  return { ok: true, services };
}
