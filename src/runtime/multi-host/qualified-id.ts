// Observation ids of the multi-host driver: `<host>/<container id>`, unique across hosts. Pure.

/** `h1` + `3f2a...` -> `h1/3f2a...`. Host names hold no `/` (container ids never do either). */
export function qualifiedId(host: string, innerId: string): string {
  return `${host}/${innerId}`;
}

/** The host and container id of a qualified id; undefined for anything else. */
export function parseQualifiedId(id: string): { readonly host: string; readonly innerId: string } | undefined {
  const slash = id.indexOf('/');
  if (slash <= 0 || slash === id.length - 1) return undefined;
  return { host: id.slice(0, slash), innerId: id.slice(slash + 1) };
}
