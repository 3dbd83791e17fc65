// What a platform endpoint saw, as events: the platform side of the evidence for a verdict.
// `at` is performance.now() in the harness process, the same clock the EMS log lines are stamped with.

export interface PeerCertificate {
  subject: string;
  issuer: string;
}

export type Observation =
  | { kind: 'tcp-accepted'; at: number; remote: string }
  | {
      kind: 'handshake-ok';
      at: number;
      protocol: string; // e.g. 'TLSv1.3'
      cipher: string; // OpenSSL name, e.g. 'ECDHE-RSA-AES128-GCM-SHA256'
      ephemeral?: { type: string; bits: number; name?: string };
      clientCert?: PeerCertificate;
    }
  | {
      kind: 'handshake-failed';
      at: number;
      error: string; // the OpenSSL/JSSE text the endpoint saw
      code?: string; // e.g. 'ERR_SSL_NO_SHARED_CIPHER'
    }
  | { kind: 'upgrade'; at: number; path: string; headers: Record<string, string>; appKeyMatches: boolean }
  | { kind: 'upgrade-rejected'; at: number; path: string; status: number }
  | { kind: 'auth'; at: number; ok: boolean; sessionId?: number }
  | { kind: 'bind'; at: number; names: string[] }
  | { kind: 'closed'; at: number; phase: 'tcp' | 'tls' | 'websocket' | 'authenticated' };

export type ObservationKind = Observation['kind'];
