// Docker's multiplexed log frames to text. Unit: pure.
import { describe, expect, it } from 'vitest';
import { demuxDockerLogs } from '../../../src/runtime/docker/docker-logs.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('demuxDockerLogs', () => {
  it('joins stdout and stderr frames in order', () => {
    expect(demuxDockerLogs(Buffer.concat([frame(1, 'listening\n'), frame(2, 'bad PORT\n')]))).toBe('listening\nbad PORT\n');
  });

  it('keeps a truncated last frame as far as it goes', () => {
    const whole = frame(2, 'truncated message');
    expect(demuxDockerLogs(whole.subarray(0, 8 + 9))).toBe('truncated');
  });

  it('returns TTY output (no frames) as it is', () => {
    expect(demuxDockerLogs(Buffer.from('plain text\n'))).toBe('plain text\n');
  });
});
