import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

// TCP ports the EMS must reach: the platform endpoints (and, through a reverse tunnel, the same
// numbers on a gateway) and the EMS's own REST server. Both come from a range below the kernel's
// ephemeral range and, by default, below 32768:
// - the C SDK 2.2.1 keeps the platform port in an int16_t, so a port above 32767 is never
//   reached (EMS-FACTS.md "Measured on the open C SDK 2.2.1": `Err = 111`), and listen-on-0 gets
//   one from 32768–60999 on Linux;
// - a port the kernel hands out itself (listen on 0, the local end of any outgoing connection)
// can be taken again in between by anything on the machine; below the ephemeral range only an
// explicit bind takes one.
// Picks are random in the range; an endpoint binds the pick for real (the listening server holds
// it, no probe-and-close gap) and tries another on EADDRINUSE. The set keeps one harness process
// from handing the same port to two concurrent scenarios.

/** Inclusive bounds. */
export interface PortRange {
  low: number;
  high: number;
}

/** The highest port the C SDK 2.2.1 can dial: its port is an int16_t. */
export const INT16_MAX_PORT = 32767;
/** Fewer ports than this cannot serve concurrent scenarios with random picks among other users of the machine. */
export const MIN_RANGE_PORTS = 100;
/** Ports below this need privileges on most systems. */
const LOWEST_PORT = 1024;
/** The default range: this many ports right below the ephemeral range (and 32768). */
const DEFAULT_SPAN = 12_000;
const TRIES = 100;

const handedOut = new Set<number>();

/** net.ipv4.ip_local_port_range on Linux; elsewhere the IANA dynamic range (BSD, Windows, macOS). */
export function ephemeralRange(): PortRange {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return { low: low as number, high: high as number };
  } catch {
    // Not Linux.
  }
  return { low: 49152, high: 65535 };
}

/** Up to DEFAULT_SPAN ports below both the ephemeral range and 32768; undefined when there is no room. */
export function defaultPortRange(ephemeral = ephemeralRange()): PortRange | undefined {
  const high = Math.min(ephemeral.low, INT16_MAX_PORT + 1) - 1;
  const low = Math.max(LOWEST_PORT, high - DEFAULT_SPAN + 1);
  return high - low + 1 >= MIN_RANGE_PORTS ? { low, high } : undefined;
}

/** `LOW-HIGH` (as an inventory writes it) → a range, or the reason it is not one. */
export function parsePortRange(text: string, ephemeral = ephemeralRange()): PortRange | string {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  if (!m) return `"${text}" is not a numeric port range: write LOW-HIGH, e.g. 20000-32767`;
  const range = { low: Number(m[1]), high: Number(m[2]) };
  if (range.low < LOWEST_PORT || range.high > 65535) return `${format(range)}: ports must lie in ${LOWEST_PORT}-65535`;
  if (range.high < range.low) return `${format(range)}: the first port is above the last`;
  if (range.high - range.low + 1 < MIN_RANGE_PORTS) {
    return `${format(range)} is too small: give at least ${MIN_RANGE_PORTS} ports (scenarios run concurrently and pick at random)`;
  }
  if (range.low <= ephemeral.high && ephemeral.low <= range.high) {
    return `${format(range)} overlaps the kernel's ephemeral port range ${format(ephemeral)} (net.ipv4.ip_local_port_range), ` +
      'where any outgoing connection may take a port: choose ports outside it';
  }
  return range;
}

export function format(range: PortRange): string {
  return `${range.low}-${range.high}`;
}

/**
 * Binds `server` to a random free port of the range on `host`; resolves the port, which stays
 * handed out until the server closes. Rejects when every try met a port in use, or at once on
 * any other listen error.
 */
export function listenInRange(server: Server, host: string, range?: PortRange): Promise<number> {
  const port = bindInRange(host, range, (p) => new Promise<void>((resolve, reject) => {
    // Both listeners go whichever way the listen ends: a failed try leaves nothing behind for the next.
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(p, host);
  }));
  return port.then((p) => {
    server.once('close', () => releasePort(p));
    return p;
  });
}

/**
 * The general form: `bind(port)` must bind for real (the caller's listener then holds the port)
 * and reject with code EADDRINUSE when the port is taken. Release the port with releasePort
 * once the listener is closed.
 */
export async function bindInRange(host: string, range: PortRange | undefined, bind: (port: number) => Promise<void>): Promise<number> {
  const r = range ?? requireDefault();
  const inUse = new Set<number>();
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const port = pick(r, inUse);
    if (port === undefined) break;
    try {
      await bind(port);
      return port;
    } catch (err) {
      handedOut.delete(port);
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      inUse.add(port);
    }
  }
  throw new Error(`no free TCP port on ${host} in ${format(r)} after ${inUse.size} tries: every port tried was in use`);
}

/**
 * A free port for a listener that binds it later (the EMS's REST server): checked free now,
 * handed out until releasePort. The EMS binds it a few hundred ms later; in a range outside the
 * ephemeral one only an explicit bind can take it in between.
 */
export function freePort(host: string | readonly string[] = '127.0.0.1', range?: PortRange): Promise<number> {
  const hosts = typeof host === 'string' ? [host] : host;
  return bindInRange(hosts.join(', '), range, async (port) => {
    // Free on each of them: checked one after the other, each bind released before the next.
    for (const h of hosts) {
      await new Promise<void>((resolve, reject) => {
        const probe = createServer();
        probe.once('error', reject);
        probe.listen(port, h, () => probe.close(() => resolve()));
      });
    }
  });
}

export function releasePort(port: number): void {
  handedOut.delete(port);
}

/** A random port of the range that is neither handed out nor known to be in use; undefined when none is left. */
function pick(range: PortRange, inUse: Set<number>): number | undefined {
  const size = range.high - range.low + 1;
  const taken = (p: number) => handedOut.has(p) || inUse.has(p);
  for (let i = 0; i < 4 * size; i++) {
    const port = range.low + Math.floor(Math.random() * size);
    if (!taken(port)) return hand(port);
  }
  // Nearly full: look for any port left rather than keep guessing.
  for (let port = range.low; port <= range.high; port++) if (!taken(port)) return hand(port);
  return undefined;
}

function hand(port: number): number {
  handedOut.add(port);
  return port;
}

function requireDefault(): PortRange {
  const range = defaultPortRange();
  if (range) return range;
  throw new Error(
    `no room for a port range below ${INT16_MAX_PORT + 1} and the kernel's ephemeral range ${format(ephemeralRange())}: ` +
      "set endpointPorts for the target in the inventory, outside the ephemeral range",
  );
}
