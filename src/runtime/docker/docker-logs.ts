// Decodes Docker's multiplexed log stream (a container without a TTY). Pure.
// Each frame: 1 byte stream (1 stdout, 2 stderr), 3 zero bytes, 4 bytes big-endian size, payload.

const HEADER_BYTES = 8;

/** The text of every frame in order; a truncated last frame is kept as far as it goes. Input that
 * does not look multiplexed (a TTY container) is returned as plain text. */
export function demuxDockerLogs(bytes: Uint8Array): string {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = view[0];
  const multiplexed = view.length >= HEADER_BYTES && (first === 0 || first === 1 || first === 2) && view[1] === 0 && view[2] === 0 && view[3] === 0;
  if (!multiplexed) return view.toString('utf8');
  const parts: string[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= view.length) {
    const size = view.readUInt32BE(at + 4);
    const end = Math.min(view.length, at + HEADER_BYTES + size);
    parts.push(view.toString('utf8', at + HEADER_BYTES, end));
    at = end;
  }
  return parts.join('');
}
