// Consul catalog services JSON to the names of services carrying a tag. Unit: pure.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { servicesWithTag } from '../../../../src/registry/consul/translate-catalog.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

describe('servicesWithTag', () => {
  it('picks the services whose tag list holds the tag exactly', () => {
    const result = servicesWithTag(fixture('catalog-services.json'), 'edge');
    expect(result.ok && [...result.services].sort()).toEqual(['api', 'web']);
  });

  it('finds nothing for a tag no service carries', () => {
    const result = servicesWithTag(fixture('catalog-services.json'), 'nope');
    expect(result.ok && result.services.size).toBe(0);
  });

  it.each([[['api']], [null], ['text'], [42]])('refuses a whole answer that is not an object: %j', (body) => {
    expect(servicesWithTag(body, 'edge').ok).toBe(false);
  });
});
