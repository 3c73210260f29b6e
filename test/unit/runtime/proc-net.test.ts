// /proc/net/tcp parsing for the port-owner check. Unit: pure.
import { describe, expect, it } from 'vitest';
import { listeningSocketInodes, processGroupOfStat } from '../../../src/runtime/proc-net.js';

const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1456 1 000000000c5b2d11 100 0 0 10 0
   1: 0100007F:7A69 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99001 1 0000000000000000 100 0 0 10 0
   2: 0100007F:7A69 0100007F:CFDE 01 00000000:00000000 00:00000000 00000000     0        0 99002 1 0000000000000000
   3: 0100007F:9D2F 0100007F:CFDE 06 00000000:00000000 03:00000D14 00000000     0        0 0 3 00000000ad1b5aca
`;
const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:7A69 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0
`;

describe('listeningSocketInodes', () => {
  it('finds the listening sockets on a port, not its connections', () => {
    expect(listeningSocketInodes(tcp, 31337)).toEqual(['99001']);
    expect(listeningSocketInodes(tcp, 2024)).toEqual(['1456']);
  });

  it('reads IPv6 tables too', () => {
    expect(listeningSocketInodes(tcp6, 31337)).toEqual(['77']);
  });

  it('finds nothing on a free port or in garbage', () => {
    expect(listeningSocketInodes(tcp, 40000)).toEqual([]);
    expect(listeningSocketInodes('garbage\n\n', 1)).toEqual([]);
  });
});

describe('processGroupOfStat', () => {
  it('reads the process group, also when the command name holds spaces and parentheses', () => {
    expect(processGroupOfStat('123 (node) S 1 120 120 0 -1 4194560')).toBe(120);
    expect(processGroupOfStat('123 (a b) (c) R 7 99 99 0')).toBe(99);
  });
});
