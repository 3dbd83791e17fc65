import { fileURLToPath } from 'node:url';
import { LocalTarget } from '../targets/local.ts';

// A local target whose EMS is test/fixtures/fake-wsems/wsems in one of its misbehaving modes: a
// real process the harness starts, reads and stops, which never speaks TLS.

export const FAKE_WSEMS = fileURLToPath(new URL('./fixtures/fake-wsems/wsems', import.meta.url));

export type FakeMode = 'silent' | 'handshake-line' | 'exits';

export function fakeTarget(id: string, mode: FakeMode): LocalTarget {
  return new LocalTarget({
    id,
    executable: FAKE_WSEMS,
    env: { FAKE_WSEMS_MODE: mode },
    profile: { flavour: 'openssl', os: 'linux', capabilities: [], errorMap: [] },
  });
}
