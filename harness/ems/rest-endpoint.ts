import type { Duplex } from 'node:stream';

// The EMS's local REST server as the rendered config.json describes it (EMS-FACTS.md "The EMS's
// local HTTP server"), and the one request the harness makes of it: isConnected. A driver opens a
// TCP stream its own way (a local socket, an SSH forwardOut) to exactly the rendered host and
// port; this module speaks HTTP over it, as the rendered ssl/authenticate say.

export const IS_CONNECTED_PATH = '/Thingworx/Things/LocalEms/Properties/isConnected';

export interface RestEndpoint {
  /** The address the EMS listens on: `localhost` is the EMS's IPv6 loopback (the vendor's pages). */
  host: string;
  port: number;
  ssl: boolean;
  authenticate: boolean;
}

/** http_server of a rendered config.json, with the EMS's defaults for what it leaves out (localhost, 8000). */
export function restEndpointOf(configJson: string): RestEndpoint {
  const http = (JSON.parse(configJson) as { http_server?: Record<string, unknown> }).http_server ?? {};
  const host = typeof http['host'] === 'string' ? http['host'] : 'localhost';
  return {
    host: host === 'localhost' ? '::1' : host,
    port: typeof http['port'] === 'number' ? http['port'] : 8000,
    ssl: http['ssl'] === true,
    authenticate: http['authenticate'] === true,
  };
}

/**
 * Asks isConnected over `stream`, already connected to rest.host:rest.port. Plain HTTP only for
 * now: an EMS rendered with TLS or basic auth (the LSR families, later) is refused here by name
 * rather than asked in a way it does not serve.
 */
export function askIsConnected(stream: Duplex, rest: RestEndpoint): Promise<boolean> {
  const unsupported = [rest.ssl && 'ssl: true', rest.authenticate && 'authenticate: true'].filter(Boolean);
  if (unsupported.length) {
    stream.destroy();
    return Promise.reject(new Error(`the REST check speaks plain HTTP only; the config renders http_server ${unsupported.join(', ')}`));
  }
  return new Promise<boolean>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      stream.end();
      try {
        resolve(parseAnswer(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    };
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.once('error', (err) => {
      settled = true;
      reject(err);
    });
    // HTTP/1.0: the server closes after its answer, which ends the read.
    stream.once('end', done);
    stream.once('close', done);
    const host = rest.host.includes(':') ? `[${rest.host}]` : rest.host;
    stream.write(`GET ${IS_CONNECTED_PATH} HTTP/1.0\r\nHost: ${host}:${rest.port}\r\n\r\n`);
  });
}

/** An InfoTable answer: rows first, then the data shape. */
function parseAnswer(text: string): boolean {
  const at = text.indexOf('\r\n\r\n');
  const head = at < 0 ? text : text.slice(0, at);
  if (!/^HTTP\/1\.[01] 200/.test(head)) return false;
  const body = JSON.parse(text.slice(at + 4)) as { rows?: Array<{ isConnected?: unknown }> };
  return body.rows?.[0]?.isConnected === true;
}
