// Reads the admin bearer token from a file (`--token-file`). I/O: reads one file.
import { readFile } from 'node:fs/promises';
import { DockmasterError } from '../errors.js';
import { validateAdminToken } from './auth.js';

/** A token file bigger than this is surely the wrong file; refuse rather than send it around. */
const TOKEN_FILE_MAX_CHARS = 4096;

/**
 * The token in `path`, without surrounding whitespace (editors add a final newline). Rejects
 * with DM_ERR_ADMIN_TOKEN_FILE when the file cannot be read, and DM_ERR_ADMIN_TOKEN_INVALID
 * when it is empty, too large, or holds more than one token. Messages never include the token.
 */
export async function readTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DockmasterError('DM_ERR_ADMIN_TOKEN_FILE', `cannot read token file ${path}: ${reason}`, { path });
  }
  const token = text.trim();
  if (token.length > TOKEN_FILE_MAX_CHARS) {
    throw new DockmasterError(
      'DM_ERR_ADMIN_TOKEN_INVALID',
      `token file ${path} holds ${token.length} characters; expected one token of at most ${TOKEN_FILE_MAX_CHARS}`,
      { path },
    );
  }
  return validateAdminToken(token, `token file ${path}`);
}
