import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEndpoint } from '../harness/endpoints/tls-endpoint.ts';
import type { Catalogue } from '../harness/pki/catalogue.ts';
import { childCpuMs } from './stats.ts';

// The floor: the least any harness pays per scenario. A bare Node process starts, reads its
// config, does one TLS handshake (validating the platform's chain, as the EMS does) and one
// WebSocket upgrade against the harness's own platform endpoint, and exits on the 101.

/** CommonJS, run with `node -e`; argv[1] is its config file. No library beyond Node itself. */
export const FLOOR_CLIENT = String.raw`
const fs = require('node:fs'), tls = require('node:tls'), { randomBytes } = require('node:crypto');
const c = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
const s = tls.connect({ host: c.host, port: c.port, ca: fs.readFileSync(c.ca) }, () => s.write(
  'GET /Thingworx/WS HTTP/1.1\r\nHost: ' + c.host + ':' + c.port + '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ' + randomBytes(16).toString('base64') + '\r\nappKey: ' + c.appKey + '\r\n\r\n'));
let head = '';
s.on('data', (d) => { head += d; if (head.includes('\r\n\r\n')) process.exit(head.startsWith('HTTP/1.1 101 ') ? 0 : 1); });
s.on('error', (e) => { console.error(e.message); process.exit(2); });
`;

export interface FloorSampler {
  /** Runs the client `n` times, one after the other: the wall time of each, the mean CPU time (user + system). */
  sample(n: number): Promise<{ wallMs: number[]; cpuMsPerRun: number | undefined }>;
  close(): Promise<void>;
}

/** The platform endpoint of the sanity scenario (leaf-valid, the root CA as trust). */
export async function floorSampler(catalogue: Catalogue): Promise<FloorSampler> {
  const appKey = 'floor-client-app-key';
  const ca = catalogue.files['chain-root.pem'];
  if (!ca) throw new Error('certs/recipes.yaml: the floor needs the catalogue file "chain-root.pem"');
  const endpoint = await startEndpoint({ kind: 'node-tls', cert: 'leaf-valid' }, { catalogue, appKey, bindAddress: '127.0.0.1' });
  const dir = await mkdtemp(join(tmpdir(), 'bench-floor-'));
  // A copy: the endpoint holds its certificate from now on, and a store rebuilt meanwhile (new
  // recipes) must not leave the client trusting another root.
  const caCopy = join(dir, 'ca.pem');
  await copyFile(ca, caCopy);
  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ host: 'localhost', port: endpoint.port, ca: caCopy, appKey }));
  return {
    async sample(n) {
      const wallMs: number[] = [];
      const cpu0 = await childCpuMs();
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const child = spawn(process.execPath, ['-e', FLOOR_CLIENT, config], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', resolve));
        wallMs.push(performance.now() - t0);
        if (code !== 0) throw new Error(`the floor client exited with ${code}: ${stderr.trim() || 'no message'}`);
      }
      const cpu1 = await childCpuMs();
      return { wallMs, cpuMsPerRun: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / n };
    },
    async close() {
      await endpoint.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
