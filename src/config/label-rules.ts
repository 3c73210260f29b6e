// What host labels may look like, shared by `dockmaster.yaml`'s hosts and a service's placement
// constraints: the Kubernetes rules for label keys and values, so a label written for one reads
// the same in the other. Pure.

// Kubernetes qualified names: an optional DNS-subdomain prefix and '/', then 1-63 characters of
// letters, digits, '-', '_' and '.', starting and ending with a letter or digit.
const LABEL_KEY = /^(?:[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
// Kubernetes label values: empty, or up to 63 such characters, starting and ending with a letter or digit.
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

/** At most this many labels on one host. */
export const MAX_HOST_LABELS = 64;

/** Why `key` cannot name a host label, or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  if (LABEL_KEY.test(key)) return undefined;
  return `'${key}' is not a label name: 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, optionally after a prefix like 'example.com/'`;
}

/** Why `value` cannot be a host label's value, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (LABEL_VALUE.test(value)) return undefined;
  return `'${value}' is not a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
}
