import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { formatIssues } from '../../harness/scenario/model.ts';

// Where the virtual lab lives and how its gateways are laid out: shared by the lab script
// (targets/lab/lab.ts), the inventory it generates and the tests that drive it.

/**
 * Generated state of a lab that is up: keys, sshd configs, EMS installs, lab.json, the inventory.
 * $WSEMS_LAB_STATE puts it elsewhere.
 */
export const LAB_STATE = process.env.WSEMS_LAB_STATE ? join(resolve(process.env.WSEMS_LAB_STATE), '/') : fileURLToPath(new URL('./state/', import.meta.url));
export const LAB_JSON = join(LAB_STATE, 'lab.json');
export const LAB_INVENTORY = join(LAB_STATE, 'virtual-lab.yaml');
export const LAB_CLIENT_KEY = join(LAB_STATE, 'id_ed25519');
/** The command that starts the lab (printed wherever a missing lab is reported). */
export const LAB_UP_COMMAND = 'sudo npx tsx targets/lab/lab.ts up';

/** The name the gateways use for the harness's endpoints (a SAN of the platform leaves). */
export const PLATFORM_NAME = 'platform.conformance.test';

/**
 * What a gateway plays: `process` (the harness starts the EMS over SSH), `service` (a SysV init
 * script owns the EMS, which runs before the harness arrives with its own config.json), `tunnel`
 * (reaches the harness only through a reverse SSH tunnel).
 */
export const ROLES = ['process', 'service', 'tunnel'] as const;
export type Role = (typeof ROLES)[number];

export const LabGateway = z
  .object({
    id: z.string(),
    role: z.enum(ROLES),
    netns: z.string(),
    hostIf: z.string(),
    gatewayIf: z.string(),
    /** The harness's management address on the veth (SSH goes from here). */
    hostAddress: z.string(),
    /** A second harness address on the veth, where the endpoints listen (PLATFORM_NAME). */
    platformAddress: z.string(),
    address: z.string(),
    sshPort: z.number().int(),
    hostKey: z.string(),
    dir: z.string(),
    installDir: z.string(),
    workDir: z.string(),
    sshdPidFile: z.string(),
    /** `service` role: the init script, its log and the EMS's own config.json. */
    initScript: z.string().optional(),
    serviceLog: z.string().optional(),
    serviceConfig: z.string().optional(),
  })
  .strict();
export type LabGateway = z.infer<typeof LabGateway>;

export const Lab = z.object({ createdAt: z.string(), clientKey: z.string(), inventory: z.string(), gateways: z.array(LabGateway).min(1) }).strict();
export type Lab = z.infer<typeof Lab>;

export function gatewayLayout(n: number, role: Role): Omit<LabGateway, 'hostKey'> {
  const id = `lab-gw${n}`;
  const dir = join(LAB_STATE, id);
  const installDir = join(dir, 'microserver');
  return {
    id,
    role,
    netns: `wsems-gw${n}`,
    hostIf: `wsgw${n}h`,
    gatewayIf: `wsgw${n}g`,
    hostAddress: `10.77.${n}.1`,
    platformAddress: `10.77.${n}.254`,
    address: `10.77.${n}.2`,
    sshPort: 22,
    dir,
    installDir,
    workDir: join(dir, 'work'),
    sshdPidFile: join(dir, 'sshd.pid'),
    ...(role === 'service'
      ? { initScript: join(installDir, 'wsems.init'), serviceLog: join(installDir, 'log', 'wsems.log'), serviceConfig: join(installDir, 'etc', 'config.json') }
      : {}),
  };
}

/** The lab that is up, or undefined (with the reason) when there is none. */
export async function readLab(): Promise<{ lab?: Lab; reason?: string }> {
  let text: string;
  try {
    text = await readFile(LAB_JSON, 'utf8');
  } catch {
    return { reason: `the virtual lab is not up (no ${LAB_JSON}); start it with: ${LAB_UP_COMMAND}` };
  }
  const parsed = Lab.safeParse(JSON.parse(text));
  if (!parsed.success) return { reason: `${LAB_JSON}: ${formatIssues(parsed.error)}; restart the lab: ${LAB_UP_COMMAND}` };
  return { lab: parsed.data };
}
