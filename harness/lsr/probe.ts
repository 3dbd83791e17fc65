import { randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { IS_CONNECTED_PATH, type RestEndpoint } from '../ems/rest-endpoint.ts';
import { warningsIn, type SeenWarnings } from '../ems/warnings.ts';
import type { Catalogue } from '../pki/catalogue.ts';
import type { SingleExpectation } from '../scenario/model.ts';
import { DialRefused, type TargetSession, type WarningEntry } from '../scenario/target.ts';
import { httpGet, tlsHandshake, type HttpAnswer, type ServedCert, type TlsEvidence } from './client.ts';

// The harness as the LSR: what it asks of the EMS's local server for a local-server scenario, and
// what it saw. Only what the scenario's expectations need is asked, each step once, in order; every
// step ends when the server answers or refuses (a silent server ends it after PROBE_MS). Nothing
// here judges: harness/lsr/judge.ts does, from this evidence.

/** How long one step waits for a server that neither answers nor closes. */
export const PROBE_MS = 5000;
/** Loopback addresses the EMS's host always has: where "only on" is checked (127.0.0.2 catches a bind to 0.0.0.0). */
export const LOOPBACKS = ['::1', '127.0.0.1', '127.0.0.2'] as const;

/**
 * The wrong credentials a rejects-unauthenticated probe tries, each refused with 401: none at all, a
 * wrong user, a wrong password, and the near misses of the right ones that a compare over the
 * wrong length lets through (the password without its last character, and with one more).
 */
export const WRONG_CREDENTIALS = ['none', 'wrong user', 'wrong password', 'truncated password', 'extended password'] as const;

/** Which credentials a request carries. */
export type Credentials = 'as configured' | (typeof WRONG_CREDENTIALS)[number] | 'right';

export interface ProbeRequest {
  credentials: Credentials;
  over: 'tls' | 'plain';
  status?: number;
  error?: string;
}

/** A served certificate, with its catalogue name when it is one of the catalogue's. */
export type NamedCert = ServedCert & { name?: string };
type Completed = Extract<TlsEvidence, { ok: true }>;
export type Handshake = { trust: string } & ((Omit<Completed, 'chain'> & { chain: NamedCert[] }) | Extract<TlsEvidence, { ok: false }>);

export interface LocalServerEvidence {
  /** How the LSR client reached the EMS's host (a socket here, an SSH forward from a gateway). */
  route: string;
  /** Where it dialled: http_server.host (localhost as ::1) and port, as rendered. */
  address: { name: string; host: string; port: number };
  /** One TLS handshake per CA list a serves-tls expectation trusts. */
  handshakes: Handshake[];
  requests: ProbeRequest[];
  /** A plain-HTTP request on the TLS port: answered or not. */
  plainOnTlsPort?: { answered: boolean; status?: number; error?: string };
  /** A TLS handshake on the plain port: completed or not. */
  tlsOnPlainPort?: { completed: boolean; error?: string };
  /** listens-only-on: each loopback address tried. */
  listeners?: Array<{ address: string; listening: boolean; error?: string }>;
  warnings: SeenWarnings;
  /** A step ended by PROBE_MS: the server neither answered nor closed. */
  timedOut?: true;
}

export interface ProbeInput {
  /** Every outcome the scenario's expectations (all alternatives) name on this target. */
  parts: SingleExpectation[];
  rest: RestEndpoint;
  session: Pick<TargetSession, 'dial' | 'dialRoute'>;
  catalogue: Catalogue;
  /** The EMS's log so far (read when the probe is over: its start-up warnings are out by then). */
  lines: () => string[];
  warningMap?: readonly WarningEntry[];
}

export async function probeLocalServer(input: ProbeInput): Promise<LocalServerEvidence> {
  const { rest, parts } = input;
  const kinds = new Set(parts.map((p) => p.outcome));
  const ev: LocalServerEvidence = {
    route: input.session.dialRoute,
    address: { name: rest.name, host: rest.host, port: rest.port },
    handshakes: [],
    requests: [],
    warnings: { logged: [], otherWarnLines: [] },
  };
  const dial = () => input.session.dial(rest.host, rest.port);
  const note = (a: HttpAnswer) => {
    if ('timedOut' in a) ev.timedOut = true;
    return 'error' in a ? { error: a.error } : { status: a.status };
  };
  const request = async (credentials: Credentials, over: 'tls' | 'plain') => {
    ev.requests.push({ credentials, over, ...note(await get(input, dial, over, credentials)) });
  };

  const trusts = [...new Set(parts.flatMap((p) => (p.outcome === 'serves-tls' ? [p.trust] : [])))];
  for (const trust of trusts) {
    const ca = await caList(input.catalogue, trust);
    const { socket, evidence } = await handshake(dial, { ca, identity: rest.name });
    ev.handshakes.push(evidence.ok ? { ...evidence, chain: await named(input.catalogue, evidence.chain), trust } : { ...evidence, trust });
    if (socket) ev.requests.push({ credentials: 'as configured', over: 'tls', ...note(await httpGet(socket, requestOf(rest, 'as configured'))) });
  }
  if (kinds.has('serves-tls')) {
    const a = await opened(dial, (s) => httpGet(s, requestOf(rest, 'none')));
    ev.plainOnTlsPort = 'error' in a ? { answered: false, error: a.error } : { answered: true, status: a.status };
    if ('timedOut' in a) ev.timedOut = true;
  }
  if (kinds.has('serves-plain')) {
    await request('as configured', 'plain');
    const { evidence } = await handshake(dial, { ca: [], identity: rest.name }, true);
    ev.tlsOnPlainPort = evidence.ok ? { completed: true } : { completed: false, error: evidence.error };
  }
  if (kinds.has('rejects-unauthenticated')) {
    for (const c of [...WRONG_CREDENTIALS, 'right'] as const) await request(c, rest.ssl ? 'tls' : 'plain');
  }
  const only = parts.flatMap((p) => (p.outcome === 'listens-only-on' ? [p.address] : []));
  if (only.length) {
    ev.listeners = [];
    for (const address of [...new Set([...only, ...LOOPBACKS])]) {
      try {
        (await input.session.dial(address, rest.port)).destroy();
        ev.listeners.push({ address, listening: true });
      } catch (e) {
        if (!(e instanceof DialRefused)) throw e;
        ev.listeners.push({ address, listening: false, error: e.message });
      }
    }
  }
  ev.warnings = warningsIn(input.lines(), input.warningMap);
  return ev;
}

/** A wrong value for a credential: never the configured one. */
const WRONG = `not-${randomBytes(6).toString('hex')}`;

function requestOf(rest: RestEndpoint, credentials: Credentials) {
  const user = rest.credentials?.user ?? '';
  const password = rest.credentials?.password ?? '';
  const auth = credentials === 'none' || (credentials === 'as configured' && !rest.authenticate)
    ? undefined
    : credentials === 'wrong user' ? { user: `${user}${WRONG}`, password }
      : credentials === 'wrong password' ? { user, password: WRONG }
        : credentials === 'truncated password' ? { user, password: password.slice(0, -1) }
          : credentials === 'extended password' ? { user, password: `${password}x` }
            : { user, password };
  return { path: IS_CONNECTED_PATH, host: rest.name, port: rest.port, timeoutMs: PROBE_MS, ...(auth ? { auth } : {}) };
}

/** One GET on a fresh connection, over TLS (not validated: the handshakes above judge the chain) or plain. */
async function get(input: ProbeInput, dial: () => Promise<Duplex>, over: 'tls' | 'plain', credentials: Credentials): Promise<HttpAnswer> {
  if (over === 'plain') return opened(dial, (s) => httpGet(s, requestOf(input.rest, credentials)));
  const { socket, evidence } = await handshake(dial, { ca: [], identity: input.rest.name });
  if (!socket) return { error: `no TLS handshake: ${evidence.ok ? '' : evidence.error}` };
  return httpGet(socket, requestOf(input.rest, credentials));
}

/** The step on a new connection; nothing listening is an answer too (the EMS's, not the infrastructure's). */
async function opened(dial: () => Promise<Duplex>, step: (s: Duplex) => Promise<HttpAnswer>): Promise<HttpAnswer> {
  try {
    return await step(await dial());
  } catch (e) {
    if (e instanceof DialRefused) return { error: e.message };
    throw e;
  }
}

async function handshake(dial: () => Promise<Duplex>, opts: { ca: string[]; identity: string }, close = false) {
  let raw: Duplex;
  try {
    raw = await dial();
  } catch (e) {
    if (e instanceof DialRefused) return { evidence: { ok: false as const, error: e.message } };
    throw e;
  }
  const r = await tlsHandshake(raw, { ...opts, timeoutMs: PROBE_MS });
  if (close) r.socket?.destroy();
  return r;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

async function caList(catalogue: Catalogue, file: string): Promise<string[]> {
  const path = catalogue.files[file];
  if (!path) throw new Error(`serves-tls trust: unknown catalogue file "${file}"`);
  return (await readFile(path, 'utf8')).match(PEM_CERT) ?? [];
}

const fingerprints = new WeakMap<Catalogue, Promise<Map<string, string>>>();

/** The catalogue's certificates by SHA-256 fingerprint, read once per catalogue. */
function byFingerprint(catalogue: Catalogue): Promise<Map<string, string>> {
  let m = fingerprints.get(catalogue);
  if (!m) {
    m = Promise.all(Object.values(catalogue.certs).map(async (c) => [new X509Certificate(await readFile(c.certFile)).fingerprint256, c.name] as const)).then((e) => new Map(e));
    fingerprints.set(catalogue, m);
  }
  return m;
}

async function named(catalogue: Catalogue, chain: ServedCert[]): Promise<NamedCert[]> {
  const names = await byFingerprint(catalogue);
  return chain.map((c) => (names.has(c.sha256) ? { ...c, name: names.get(c.sha256)! } : c));
}
