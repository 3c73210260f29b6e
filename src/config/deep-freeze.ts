// Freezes a validated config value and everything inside it: config is frozen once, after
// validation, so no layer can change what another one reads. Pure.

/** Freezes `value` and every object it holds; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
