import { isIP } from 'node:net';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';

// The schema of certs/recipes.yaml: keys, certificates, derived files and secrets as data.
// Cross-references (a certificate's key and issuer, a file's certificates and passphrase) are
// checked here too, so build.ts never meets a dangling name.

/** Catalogue names double as file names in the store. */
const Name = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'expected a name of lower-case letters, digits, ".", "_" or "-"');

const OFFSET = /^([+-]?)(\d+)([dhm])$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/** A time relative to the build ("-30d", "+365d", "12h", "0m"), parsed to milliseconds. */
const Offset = z
  .string()
  .regex(OFFSET, 'expected a time offset relative to the build such as "-1d", "+365d", "12h" or "30m"')
  .transform((s) => {
    const [, sign, n, unit] = OFFSET.exec(s)!;
    return (sign === '-' ? -1 : 1) * Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  });

const Validity = z
  .strictObject({ from: Offset, to: Offset })
  // Runs even when an offset failed to parse (then still a string): judge only parsed ones.
  .refine((v) => typeof v.from !== 'number' || typeof v.to !== 'number' || v.from < v.to, {
    message: '"from" must be earlier than "to"',
    path: ['to'],
  });

const Dn = z
  .strictObject({ CN: z.string().min(1).optional(), O: z.string().min(1).optional(), OU: z.string().min(1).optional() })
  .refine((dn) => dn.CN ?? dn.O ?? dn.OU, { message: 'a subject needs at least one of CN, O, OU' });

const San = z
  .string()
  .regex(/^(DNS|IP):\S+$/, 'expected "DNS:<name>" or "IP:<address>"')
  .refine((s) => !s.startsWith('IP:') || isIP(s.slice(3)) !== 0, { message: 'not an IP address' });

const Key = z.strictObject({
  /** RSA modulus size. */
  bits: z.number().int().min(1024).max(8192).default(2048),
});

const Cert = z
  .strictObject({
    /** Name in `keys`; certificates may share a key. */
    key: Name,
    /** Name of the issuing certificate; omitted: self-signed. */
    issuer: Name.optional(),
    /** Only the fields given appear in the certificate. */
    subject: Dn,
    /** basicConstraints CA:TRUE with keyCertSign/cRLSign; false: CA:FALSE with digitalSignature/keyEncipherment (+keyCertSign if self-signed). */
    ca: z.boolean().default(false),
    /** Omitted: `defaults.validity` (offsets in ms once parsed). */
    validity: Validity.optional(),
    signature: z.enum(['sha256', 'sha384', 'sha512', 'sha1', 'md5']).default('sha256'),
    /** Extended key usage; omitted: [serverAuth] on non-CA certificates, none on CAs; [] leaves the extension out. */
    eku: z.array(z.enum(['serverAuth', 'clientAuth'])).optional(),
    san: z.array(San).default([]),
    /** Catalogue names of the certificates a server sends after this one, in order. */
    serveWith: z.array(Name).default([]),
  })
  .transform((c) => ({ ...c, eku: c.eku ?? (c.ca ? [] : ['serverAuth' as const]) }));

const File = z.discriminatedUnion('kind', [
  /** PEM certificates concatenated in the order given. */
  z.strictObject({ kind: z.literal('bundle'), certs: z.array(Name).min(1) }),
  /** The private key of `cert` as encrypted PKCS#8 (PBES2). */
  z.strictObject({
    kind: z.literal('pkcs8'),
    cert: Name,
    encoding: z.enum(['pem', 'der']),
    cipher: z.enum(['aes-256-cbc', 'aes-128-cbc', 'des-ede3-cbc']).default('aes-256-cbc'),
    passphrase: Name,
  }),
  /** PKCS#12 of `cert`'s key, `cert` and `chain`; aes-256-cbc is PBES2/PBKDF2-SHA256, 3des the PKCS#12 SHA-1 PBE. */
  z.strictObject({
    kind: z.literal('pkcs12'),
    cert: Name,
    chain: z.array(Name).default([]),
    cipher: z.enum(['aes-256-cbc', '3des']),
    mac: z.enum(['sha256', 'sha1']).default('sha256'),
    passphrase: Name,
  }),
]);

const RecipesShape = z.strictObject({
  defaults: z.strictObject({ validity: Validity }),
  keys: z.record(Name, Key),
  certs: z.record(Name, Cert),
  /** Names of passphrases generated at random for each store. */
  secrets: z.array(Name).default([]),
  files: z.record(Name, File).default({}),
});

const Recipes = RecipesShape.superRefine((r, ctx) => {
  const unknown = (path: (string | number)[], what: string, name: string) =>
    ctx.addIssue({ code: 'custom', path, message: `unknown ${what} "${name}"` });
  const checkCert = (path: (string | number)[], name: string) => {
    if (!(name in r.certs)) unknown(path, 'certificate', name);
  };
  const secrets = new Set(r.secrets);

  for (const [name, c] of Object.entries(r.certs)) {
    if (!(c.key in r.keys)) unknown(['certs', name, 'key'], 'key', c.key);
    if (c.issuer !== undefined) {
      if (!(c.issuer in r.certs)) unknown(['certs', name, 'issuer'], 'certificate', c.issuer);
      else {
        const chain = [name];
        let at: string | undefined = c.issuer;
        while (at !== undefined && !chain.includes(at)) {
          chain.push(at);
          at = r.certs[at]?.issuer;
        }
        // A cycle further up the chain is reported at its own members.
        if (at === name) {
          ctx.addIssue({ code: 'custom', path: ['certs', name, 'issuer'], message: `issuer cycle ${[...chain, name].join(' -> ')}` });
        }
      }
    }
    c.serveWith.forEach((s, i) => checkCert(['certs', name, 'serveWith', i], s));
  }

  const usedKeys = new Set(Object.values(r.certs).map((c) => c.key));
  for (const name of Object.keys(r.keys)) {
    if (!usedKeys.has(name)) ctx.addIssue({ code: 'custom', path: ['keys', name], message: 'not used by any certificate' });
  }

  for (const [name, f] of Object.entries(r.files)) {
    if (f.kind === 'bundle') f.certs.forEach((c, i) => checkCert(['files', name, 'certs', i], c));
    else {
      checkCert(['files', name, 'cert'], f.cert);
      if (f.kind === 'pkcs12') f.chain.forEach((c, i) => checkCert(['files', name, 'chain', i], c));
      if (!secrets.has(f.passphrase)) unknown(['files', name, 'passphrase'], 'secret', f.passphrase);
    }
  }
}).transform((r) => ({
  ...r,
  certs: Object.fromEntries(Object.entries(r.certs).map(([n, c]) => [n, { ...c, validity: c.validity ?? r.defaults.validity }])),
}));

export type Recipes = z.output<typeof Recipes>;
export type CertRecipe = Recipes['certs'][string];
export type FileRecipe = Recipes['files'][string];

/** A recipe file that does not parse or validate; the message names the file and each field. */
export class RecipeError extends Error {
  override name = 'RecipeError';
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('') || '(top level)';
}

/** Parses and validates recipes; `label` names the file in errors (e.g. "certs/recipes.yaml"). */
export function parseRecipes(text: string, label: string): Recipes {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    if (err instanceof YAMLParseError) throw new RecipeError(`${label}: ${err.message}`);
    throw err;
  }
  const result = Recipes.safeParse(doc);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      // A bad record key (a name) carries its reason one level down.
      const why = i.code === 'invalid_key' ? `${i.message}: ${i.issues.map((n) => n.message).join('; ')}` : i.message;
      return `${label}: ${fieldPath(i.path)}: ${why}`;
    });
    throw new RecipeError(lines.join('\n'));
  }
  return result.data;
}
