import type { Duplex } from 'node:stream';
import { httpGet, tlsHandshake } from '../lsr/client.ts';

// The EMS's local REST server as the rendered config.json describes it (EMS-FACTS.md "The EMS's
// local HTTP server"), and the one request every scenario makes of it: isConnected. A driver opens
// a TCP stream its own way (TargetSession.dial: a local socket, an SSH forwardOut) to exactly the
// rendered host and port; this module speaks what the rendered ssl/authenticate say over it,
// through the same LSR client the local-server scenarios use (harness/lsr/client.ts).

export const IS_CONNECTED_PATH = '/Thingworx/Things/LocalEms/Properties/isConnected';
/** A local server that says nothing for this long does not answer isConnected. */
const ANSWER_MS = 5000;

export interface RestEndpoint {
  /** The address to dial: `localhost` is the EMS's IPv6 loopback (the vendor's pages). */
  host: string;
  /** http_server.host as configured: the name an LSR uses (SNI, the certificate's identity). */
  name: string;
  port: number;
  ssl: boolean;
  authenticate: boolean;
  /** The configured user and the clear password (the config may hold its -encrypt form); never reported. */
  credentials?: { user: string; password: string };
}

/** A rendered http_server group, with the EMS's defaults for what it leaves out (localhost, 8000). */
export function restEndpointOf(http: Record<string, unknown>, credentials?: RestEndpoint['credentials']): RestEndpoint {
  const name = typeof http['host'] === 'string' ? http['host'] : 'localhost';
  return {
    host: name === 'localhost' ? '::1' : name,
    name,
    port: typeof http['port'] === 'number' ? http['port'] : 8000,
    ssl: http['ssl'] === true,
    authenticate: http['authenticate'] === true,
    ...(credentials ? { credentials } : {}),
  };
}

/**
 * Asks isConnected over `stream`, already connected to rest.host:rest.port: over TLS when the
 * config turns it on (not validated here: the local-server scenarios judge the chain), with the
 * configured credentials when it asks for them. Rejects when no HTTP answer comes.
 */
export async function askIsConnected(stream: Duplex, rest: RestEndpoint): Promise<boolean> {
  let over: Duplex = stream;
  if (rest.ssl) {
    const { socket, evidence } = await tlsHandshake(stream, { ca: [], identity: rest.name, timeoutMs: ANSWER_MS });
    if (!socket) throw new Error(`the local server's TLS handshake failed: ${evidence.ok ? '' : evidence.error}`);
    over = socket;
  }
  const answer = await httpGet(over, {
    path: IS_CONNECTED_PATH, host: rest.name, port: rest.port, timeoutMs: ANSWER_MS,
    ...(rest.authenticate && rest.credentials ? { auth: rest.credentials } : {}),
  });
  if ('error' in answer) throw new Error(answer.error);
  return answer.status === 200 && isConnectedIn(answer.body);
}

/** An InfoTable answer: rows first, then the data shape. */
export function isConnectedIn(body: string): boolean {
  try {
    return (JSON.parse(body) as { rows?: Array<{ isConnected?: unknown }> }).rows?.[0]?.isConnected === true;
  } catch {
    return false;
  }
}
