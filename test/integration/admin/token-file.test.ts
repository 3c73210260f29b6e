// readTokenFile against real files in a temporary folder. I/O: files.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTokenFile } from '../../../src/admin/token.js';

describe('readTokenFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dockmaster-token-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  async function tokenFile(name: string, content: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, content);
    await chmod(path, 0o600);
    return path;
  }

  it.each([
    ['a plain token', 's3cret-token', 's3cret-token'],
    ['a trailing newline', 's3cret-token\n', 's3cret-token'],
    ['surrounding spaces and CRLF', '  s3cret-token \r\n', 's3cret-token'],
  ])('reads %s', async (name, content, expected) => {
    expect(await readTokenFile(await tokenFile(name, content))).toBe(expected);
  });

  it.each([
    ['an empty file', '', /is empty/],
    ['a file of whitespace', ' \n\t\n', /is empty/],
    ['two lines', 'first\nsecond\n', /visible ASCII/],
    ['a token with a space', 'two words', /visible ASCII/],
    ['a huge file', 'x'.repeat(10_000), /at most 4096/],
  ])('rejects %s with a clear error', async (name, content, message) => {
    await expect(readTokenFile(await tokenFile(name, content))).rejects.toMatchObject({
      code: 'DM_ERR_ADMIN_TOKEN_INVALID',
      message: expect.stringMatching(message),
    });
  });

  it('rejects a missing file with DM_ERR_ADMIN_TOKEN_FILE naming the path', async () => {
    const path = join(dir, 'missing');
    await expect(readTokenFile(path)).rejects.toMatchObject({
      code: 'DM_ERR_ADMIN_TOKEN_FILE',
      message: expect.stringContaining(path),
    });
  });

  it('never puts the token in the error message', async () => {
    const path = await tokenFile('secret-with-space', 'hunter2 hunter3');
    await expect(readTokenFile(path)).rejects.toSatisfy((error: Error) => !error.message.includes('hunter2'));
  });
});
