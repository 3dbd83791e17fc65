import * as z from 'zod';

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
    /** DHE group size in bits for DHE suites (>= 1024 on Node; 768, the default, or 1024 on jsse-java7). */
    dhBits: z.number().int().optional(),
    ecdhCurve: z.string().optional(),
    clientAuth: z
      .object({
        require: z.boolean().default(true),
        /** Catalogue name of the CA that client certificates must chain to. */
        trust: z.string().min(1),
      })
      .optional(),
    /** jsse-java7: JSSE suite names enabled, in server order (default: a Java 7 server's list). */
    jsseSuites: z.array(z.string()).min(1).optional(),
    /** jsse-java7: Java 7's DH premaster bug (1 in 256 DHE handshakes fail), for soak runs. */
    leadingZeroBug: z.boolean().optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    // Each front honours only its own fields: one it would silently ignore is a scenario error.
    const foreign = spec.kind === 'jsse-java7' ? (['ciphers', 'ciphersuites', 'ecdhCurve', 'clientAuth'] as const) : (['jsseSuites', 'leadingZeroBug'] as const);
    for (const field of foreign) {
      if (spec[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `not a field of a ${spec.kind} endpoint` });
    }
  });
export type EndpointSpec = z.infer<typeof EndpointSpec>;
export type EndpointSpecInput = z.input<typeof EndpointSpec>;
