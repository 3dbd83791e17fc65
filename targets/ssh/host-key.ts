import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';

// Host keys are pinned in the inventory by their OpenSSH fingerprint (`ssh-keygen -lf`):
// `SHA256:` + unpadded base64 of the SHA-256 of the raw public key blob.

export const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The fingerprint of an OpenSSH public key line (`type base64 [comment]`). */
export function fingerprintOfPublicKey(line: string): string {
  const blob = line.trim().split(/\s+/)[1];
  if (!blob) throw new Error(`not an OpenSSH public key line: "${line.trim().slice(0, 30)}…"`);
  return fingerprint(Buffer.from(blob, 'base64'));
}

/** Pins serialised per inventory file: two targets' first contacts must not overwrite each other. */
let pinning: Promise<unknown> = Promise.resolve();

/**
 * First contact (`--accept-new-host-key`): writes the fingerprint seen into the target's entry
 * of the inventory, keeping its comments. Returns where it pinned, or, when the file cannot be
 * written, what to pin by hand.
 */
export function pinHostKey(inventoryFile: string, targetId: string, seen: string): Promise<string> {
  const job = pinning.then(async () => {
    try {
      const doc = parseDocument(await readFile(inventoryFile, 'utf8'));
      const targets = doc.get('targets') as { items?: Array<{ get(k: string): unknown }> } | undefined;
      const index = targets?.items?.findIndex((t) => t.get('id') === targetId) ?? -1;
      if (index < 0) throw new Error(`no target ${targetId}`);
      doc.setIn(['targets', index, 'hostKey'], seen);
      await writeFile(inventoryFile, doc.toString());
      return `pinned ${seen} as targets[${index}].hostKey of ${targetId} in ${inventoryFile}`;
    } catch (e) {
      return `accepted ${seen} for ${targetId} for this run only (could not write ${inventoryFile}: ${(e as Error).message}); pin it: hostKey: ${seen}`;
    }
  });
  pinning = job;
  return job;
}
