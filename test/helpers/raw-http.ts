// Sends hand-written HTTP/1.1 bytes over a raw socket and collects the answer, for tests of
// malformed and hostile requests that no HTTP client would produce.
import { connect } from 'node:net';

export interface RawResponse {
  readonly text: string;
  readonly status: number | undefined;
  /** True when the server closed the connection. */
  readonly closed: boolean;
}

export async function rawRequest(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return await new Promise<RawResponse>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      finish();
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, status: match ? Number(match[1]) : undefined, closed });
    };
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      if (chunks.length === 0 && (error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(bytes);
  });
}
