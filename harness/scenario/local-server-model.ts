import { isIP } from 'node:net';
import * as z from 'zod';

// What a local-server scenario (the EMS ↔ LSR link, REQUIREMENTS.md LSR-*) may expect. The harness
// plays the LSR: a TLS/HTTP client against the EMS's own REST server (harness/lsr/). These kinds
// fit only scenarios with `link: local-server`; the platform-link kinds (connects, refuses) only
// the others (model.ts checks the fit, naming the scenario and field).

/** The insecure settings the EMS warns about (EMS-FACTS "The EMS's local HTTP server"), by the harness's names. */
export const LSR_WARNINGS = ['ssl-off', 'authenticate-off', 'validate-off', 'self-signed-allowed'] as const;
export type LsrWarning = (typeof LSR_WARNINGS)[number];

/** Start-up refusals a local-server scenario may expect. */
export const START_UP_CLASSES = ['key-load-error', 'config-error'] as const;

export const LOCAL_SERVER_EXPECTATIONS = [
  z
    .object({
      /** The local server speaks TLS and serves the resource; a plain-HTTP request gets no data. */
      outcome: z.literal('serves-tls'),
      /** Catalogue certificate names, leaf first: exactly what the server must send, in this order. */
      chain: z.array(z.string().min(1)).min(1),
      /** The catalogue file (a CA list) the LSR client validates the served chain against. */
      trust: z.string().min(1).default('chain-root.pem'),
      protocolIn: z.array(z.string()).min(1).optional(),
    })
    .strict(),
  /** The local server serves plain HTTP (and no TLS handshake completes on its port). */
  z.object({ outcome: z.literal('serves-plain') }).strict(),
  /** 401 without credentials, with a wrong user, a wrong password, the password cut short or extended; 200 with the configured ones. */
  z.object({ outcome: z.literal('rejects-unauthenticated') }).strict(),
  /** The EMS does not start: a start-up line of this class, no platform connection. */
  z.object({ outcome: z.literal('refuses-to-start'), class: z.enum(START_UP_CLASSES) }).strict(),
  z
    .object({
      /** It answers at `address` and at no other loopback address (IPv4 127.0.0.1 and 127.0.0.2, IPv6 ::1). */
      outcome: z.literal('listens-only-on'),
      family: z.enum(['IPv4', 'IPv6']),
      address: z.union([z.ipv4(), z.ipv6()]),
    })
    .strict()
    .refine((e) => (isIP(e.address) === 4) === (e.family === 'IPv4'), { message: 'address is not of the family given', path: ['address'] }),
  z
    .object({
      /** Exactly these warnings are logged by the time the local server answers ([]: none of them). */
      outcome: z.literal('warns'),
      warnings: z.array(z.enum(LSR_WARNINGS)).refine((w) => new Set(w).size === w.length, { message: 'a warning is listed twice' }),
    })
    .strict(),
] as const;

export type LocalServerExpectation = z.infer<(typeof LOCAL_SERVER_EXPECTATIONS)[number]>;
export const LOCAL_SERVER_OUTCOMES = ['serves-tls', 'serves-plain', 'rejects-unauthenticated', 'refuses-to-start', 'listens-only-on', 'warns'] as const;
export type LocalServerOutcome = (typeof LOCAL_SERVER_OUTCOMES)[number];

export function isLocalServerOutcome(outcome: string): outcome is LocalServerOutcome {
  return (LOCAL_SERVER_OUTCOMES as readonly string[]).includes(outcome);
}

/** One local-server expectation in words: `serves TLS with leaf-local-server, local-server-ca`. */
export function localServerText(e: LocalServerExpectation): string {
  switch (e.outcome) {
    case 'serves-tls':
      return `serves TLS with ${e.chain.join(', ')}${e.protocolIn ? ` over ${e.protocolIn.join(' / ')}` : ''}`;
    case 'serves-plain':
      return 'serves plain HTTP';
    case 'rejects-unauthenticated':
      return 'answers 401 without or with wrong credentials, 200 with the configured ones';
    case 'refuses-to-start':
      return `refuses to start: ${e.class}`;
    case 'listens-only-on':
      return `listens only on ${e.address} (${e.family})`;
    case 'warns':
      return e.warnings.length ? `warns about ${e.warnings.join(', ')} (and nothing else)` : 'warns about no insecure setting';
  }
}
