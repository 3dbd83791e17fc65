import { z } from 'zod';

// What a scenario asks of the platform endpoint. Certificate names refer to the PKI catalogue
// (certs/recipes.yaml); the endpoint serves the named certificate with the chain its recipe lists.

export const TlsVersion = z.enum(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']);
export type TlsVersion = z.infer<typeof TlsVersion>;

export const EndpointSpec = z
  .object({
    kind: z.enum(['node-tls', 'jsse-java7']).default('node-tls'),
    cert: z.string().min(1).default('leaf-valid'),
    /** Override the certificates sent after the leaf (catalogue names, in order); [] sends the leaf alone. */
    chain: z.array(z.string()).optional(),
    minVersion: TlsVersion.optional(),
    maxVersion: TlsVersion.optional(),
    /** OpenSSL cipher list for TLS <= 1.2 (exactly what is offered; server preference on). */
    ciphers: z.string().optional(),
    /** TLS 1.3 suites, colon-separated (Node `ciphersuites`). */
    ciphersuites: z.string().optional(),
    /** DHE group size in bits for DHE suites (>= 1024 on Node). */
    dhBits: z.number().int().optional(),
    ecdhCurve: z.string().optional(),
    clientAuth: z
      .object({
        require: z.boolean().default(true),
        /** Catalogue name of the CA that client certificates must chain to. */
        trust: z.string().min(1),
      })
      .optional(),
  })
  .strict();
export type EndpointSpec = z.infer<typeof EndpointSpec>;
export type EndpointSpecInput = z.input<typeof EndpointSpec>;
