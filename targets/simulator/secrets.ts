import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defect } from './defects.ts';

// `wsems -encrypt`: AES-256-GCM under a key of this simulator's own, kept in a key file like the
// real EMS's dp.dat. The output is opaque to the harness; the prefix lets the simulator tell an
// encrypted value from a clear one in config.json.

const PREFIX = 'wsems-sim-aes256gcm:';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** WSEMS_SIM_KEYFILE, else dp.dat next to the bundle (targets/simulator/dist/). */
export function keyFilePath(): string {
  return process.env['WSEMS_SIM_KEYFILE'] || fileURLToPath(new URL('./dp.dat', import.meta.url));
}

/**
 * Reads the key file, creating it on first use. The key is written to a private temporary file
 * and hard-linked into place: the link fails with EEXIST if another process won the race (the
 * same guarantee as open 'wx'), and nobody can ever read a half-written key.
 */
export function loadOrCreateKey(path: string): Buffer {
  try {
    return readKey(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readKey(path);
}

/** Reads an existing key file; throws (ENOENT etc.) if there is none. */
export function readKey(path: string): Buffer {
  const key = readFileSync(path);
  if (key.length !== KEY_BYTES) throw new Error(`key file ${path} is not a ${KEY_BYTES}-byte key`);
  return key;
}

export function encryptSecret(clear: string, key: Buffer): string {
  const weak = weakEncryption(clear);
  if (weak) return weak;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(clear, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export function isEncrypted(value: string): boolean {
  return value.startsWith(PREFIX) || WEAK.some(([prefix]) => value.startsWith(prefix));
}

/** The SECRET-ENCRYPT test-only defects' -encrypt (defects.ts): each turns back into the clear value by a plain decoding. */
const WEAK: Array<[prefix: string, encode: (clear: string) => string, decode: (body: string) => string]> = [
  ['wsems-sim-b64:', (c) => Buffer.from(c).toString('base64'), (b) => Buffer.from(b, 'base64').toString('utf8')],
  ['wsems-sim-salted:', (c) => Buffer.concat([randomBytes(8), Buffer.from(c)]).toString('base64url'), (b) => Buffer.from(b, 'base64url').subarray(8).toString('utf8')],
  ['wsems-sim-hex:', (c) => Buffer.from(c).toString('hex'), (b) => Buffer.from(b, 'hex').toString('utf8')],
  ['wsems-sim-clear:', (c) => c, (b) => b],
];
const WEAK_DEFECTS = ['encrypt-base64', 'encrypt-base64url-salted', 'encrypt-hex', 'encrypt-clear-prefixed'] as const;

function weakEncryption(clear: string): string | undefined {
  const at = WEAK_DEFECTS.findIndex((d) => defect(d));
  if (at < 0) return undefined;
  const [prefix, encode] = WEAK[at]!;
  return prefix + encode(clear);
}

/** Throws when the value was made under another key or was altered. */
export function decryptSecret(value: string, key: Buffer): string {
  const weak = WEAK.find(([prefix]) => value.startsWith(prefix));
  if (weak) return weak[2](value.slice(weak[0].length));
  const raw = Buffer.from(value.slice(PREFIX.length), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('authentication failed (encrypted under another key file, or altered)');
  }
}
