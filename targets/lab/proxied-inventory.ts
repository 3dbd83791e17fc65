import { readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { readInventory } from '../inventory.ts';
import { startDelayProxy, type DelayProxy } from './delay-proxy.ts';

// An inventory whose SSH gateways are reached through delaying proxies (delay-proxy.ts): the same
// gateways, host keys and credentials, but every byte between the harness and each sshd crosses
// a link with the round trip asked for. The bench and the link-fault tests use it.

export interface ProxiedInventory {
  /** The inventory to hand the harness. */
  file: string;
  /** One proxy per SSH target id. */
  proxies: Map<string, DelayProxy>;
  close(): Promise<void>;
}

export async function proxiedInventory(inventory: string, out: string, rttMs: number): Promise<ProxiedInventory> {
  await readInventory(inventory); // a bad inventory is reported with its own name, not the copy's
  const doc = parse(await readFile(inventory, 'utf8')) as { targets: Array<Record<string, unknown>> };
  const proxies = new Map<string, DelayProxy>();
  try {
    for (const t of doc.targets) {
      if (t.kind !== 'ssh-linux' && t.kind !== 'ssh-windows') continue;
      const proxy = await startDelayProxy({ to: { host: String(t.address), port: Number(t.port ?? 22) }, rttMs });
      proxies.set(String(t.id), proxy);
      t.address = proxy.host;
      t.port = proxy.port;
      // Paths in the copy are read relative to the copy: make the original's absolute.
      const auth = t.auth as { keyFile?: string } | undefined;
      if (auth?.keyFile && !auth.keyFile.startsWith('~/') && !isAbsolute(auth.keyFile)) auth.keyFile = resolve(dirname(inventory), auth.keyFile);
    }
    await writeFile(out, `# ${inventory} with its SSH gateways behind delaying proxies (targets/lab/proxied-inventory.ts)\n${stringify(doc, { lineWidth: 0 })}`);
  } catch (e) {
    await Promise.all([...proxies.values()].map((p) => p.close()));
    throw e;
  }
  return { file: out, proxies, close: async () => void (await Promise.all([...proxies.values()].map((p) => p.close()))) };
}
