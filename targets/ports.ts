import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// Free TCP ports for the EMS's local REST server. The EMS binds the port a few hundred ms after
// it is chosen, so a port the kernel hands out itself (listen on 0, or the local end of any
// outgoing connection) could be taken again in between: seen under load as EADDRINUSE. Ports
// are therefore picked at random BELOW the kernel's ephemeral range, where only an explicit bind
// takes one, and checked free. The set keeps one harness process from handing the same port to
// two concurrent scenarios; releasePort returns it once its EMS is gone.
const handedOut = new Set<number>();

/** Where the picks come from: up to this many ports below the ephemeral range, none under 1024. */
const SPAN = 12_000;

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [low, high] = pickRange();
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await bindable(port, host)) return port;
    handedOut.delete(port);
  }
  throw new Error(`no free TCP port on ${host} in ${low}-${high - 1} after 100 tries`);
}

export function releasePort(port: number): void {
  handedOut.delete(port);
}

/** [low, high): below net.ipv4.ip_local_port_range (Linux; 32768 elsewhere, under the BSD/Windows ranges too). */
function pickRange(): [number, number] {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    // Not Linux: the default above is below the other systems' ranges (49152 up).
  }
  const high = Math.max(ephemeralLow, 2048);
  return [Math.max(1024, high - SPAN), high];
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}
