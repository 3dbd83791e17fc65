import { isIP } from 'node:net';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import * as z from 'zod';

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

/** Subject fields; `{}` is an empty subject (allowed only with a subjectAltName, RFC 5280 4.2.1.6). */
const Dn = z.strictObject({ CN: z.string().min(1).optional(), O: z.string().min(1).optional(), OU: z.string().min(1).optional() });

const IP_OR_DNS = 'expected "DNS:<name>" or "IP:<address>"';
const SanName = z
  .string()
  .regex(/^(DNS|IP):\S+$/, IP_OR_DNS)
  .refine((s) => !s.startsWith('IP:') || isIP(s.slice(3)) !== 0, { message: 'not an IP address' });
/** `{ series: "DNS:alt-{n}.example", count: 999 }`: that many names, {n} = 1, 2, … (a leaf with very many SANs). */
const SanSeries = z.strictObject({
  series: SanName.refine((s) => s.includes('{n}'), { message: 'a series needs "{n}" where the number goes' }),
  count: z.number().int().min(1).max(10_000),
});
const San = z.union([SanName, SanSeries]);

/** A name-constraint subtree: "DNS:<domain>" or "IP:<address>/<prefix length>". */
const Subtree = z
  .string()
  .regex(/^(DNS:\S+|IP:[0-9a-fA-F:.]+\/\d{1,3})$/, 'expected "DNS:<domain>" or "IP:<address>/<prefix length>"')
  .refine((s) => {
    if (!s.startsWith('IP:')) return true;
    const [addr, bits] = s.slice(3).split('/') as [string, string];
    return isIP(addr) !== 0 && Number(bits) <= (isIP(addr) === 4 ? 32 : 128);
  }, { message: 'not an address with a prefix length that fits it' });

const NameConstraints = z
  .strictObject({ permitted: z.array(Subtree).default([]), excluded: z.array(Subtree).default([]) })
  .refine((n) => n.permitted.length + n.excluded.length > 0, { message: 'give permitted or excluded subtrees (or leave nameConstraints out)' });

const OID = /^[0-2](\.(0|[1-9]\d*))+$/;
/** Extensions the builder writes from the recipe's own fields: not to be given again under `extensions`. */
const BUILT_IN_EXTENSIONS: Record<string, string> = {
  '2.5.29.14': 'subjectKeyIdentifier', '2.5.29.15': 'keyUsage (from ca)', '2.5.29.17': 'subjectAltName (san)',
  '2.5.29.19': 'basicConstraints (ca, pathLen)', '2.5.29.30': 'nameConstraints', '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.37': 'extKeyUsage (eku)',
};
/** Any other extension, as raw DER (e.g. an unknown critical one). */
const RawExtension = z.strictObject({
  oid: z
    .string()
    .regex(OID, 'expected a dotted object identifier such as "1.3.6.1.4.1.32473.1"')
    .refine((o) => !(o in BUILT_IN_EXTENSIONS), { message: 'written by the builder: use the recipe field for it' }),
  critical: z.boolean().default(false),
  /** The extnValue's content, DER in hex; default NULL. */
  der: z.string().regex(/^([0-9a-fA-F]{2})+$/, 'expected DER as an even number of hex digits').default('0500'),
});

const RsaKey = z.strictObject({
  type: z.literal('rsa'),
  /** Modulus size. */
  bits: z.number().int().min(1024).max(8192).default(2048),
});
const EcKey = z.strictObject({ type: z.literal('ec'), curve: z.enum(['P-256', 'P-384', 'P-521']) });
/** `type` defaults to rsa, so `{}` is RSA-2048 and `{ bits: 1024 }` RSA-1024. */
const Key = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !('type' in v) ? { ...v, type: 'rsa' } : v),
  z.discriminatedUnion('type', [RsaKey, EcKey]),
);

const Cert = z
  .strictObject({
    /** Name in `keys`; certificates may share a key. */
    key: Name,
    /** Name of the issuing certificate; omitted: self-signed. */
    issuer: Name.optional(),
    /** Only the fields given appear in the certificate; `{}` is an empty subject. */
    subject: Dn,
    /** 1: a version 1 certificate, without any extension. */
    version: z.union([z.literal(1), z.literal(3)]).default(3),
    /** basicConstraints CA:TRUE with keyCertSign/cRLSign; false: CA:FALSE with digitalSignature (+keyEncipherment for RSA, +keyCertSign if self-signed). */
    ca: z.boolean().default(false),
    /** basicConstraints pathLenConstraint (CAs only). */
    pathLen: z.number().int().min(0).max(16).optional(),
    /** A critical nameConstraints extension (CAs only). */
    nameConstraints: NameConstraints.optional(),
    /** Omitted: `defaults.validity` (offsets in ms once parsed). */
    validity: Validity.optional(),
    /** The hash of the issuer's signature (RSA PKCS#1 v1.5 or ECDSA, by the issuer's key). */
    signature: z.enum(['sha256', 'sha384', 'sha512', 'sha1', 'md5']).default('sha256'),
    /** Extended key usage; omitted: [serverAuth] on non-CA v3 certificates, none on CAs; [] leaves the extension out. */
    eku: z.array(z.enum(['serverAuth', 'clientAuth'])).optional(),
    /** Marked critical when the subject is empty (RFC 5280 4.2.1.6). */
    san: z.array(San).default([]),
    /** Further extensions, written after the built-in ones. */
    extensions: z.array(RawExtension).default([]),
    /** Catalogue names of the certificates a server sends after this one, in order. */
    serveWith: z.array(Name).default([]),
  })
  .superRefine((c, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (c.version === 1) {
      const extensionFields = [
        ['ca', c.ca], ['pathLen', c.pathLen !== undefined], ['nameConstraints', c.nameConstraints !== undefined],
        ['eku', c.eku !== undefined && c.eku.length > 0], ['san', c.san.length > 0], ['extensions', c.extensions.length > 0],
      ] as const;
      for (const [field, set] of extensionFields) if (set) issue(field, 'a version 1 certificate has no extensions: leave it out');
    }
    if (!c.ca && c.pathLen !== undefined) issue('pathLen', 'only a CA (ca: true) carries a pathLenConstraint');
    if (!c.ca && c.nameConstraints !== undefined) issue('nameConstraints', 'only a CA (ca: true) carries name constraints');
    if (!c.subject.CN && !c.subject.O && !c.subject.OU && c.san.length === 0) {
      issue('subject', 'an empty subject needs a subjectAltName (RFC 5280 4.2.1.6): give san, or CN, O or OU');
    }
    const oids = c.extensions.map((e) => e.oid);
    oids.forEach((o, i) => {
      if (oids.indexOf(o) !== i) ctx.addIssue({ code: 'custom', path: ['extensions', i, 'oid'], message: `extension ${o} is given twice` });
    });
  })
  .transform((c) => ({
    ...c,
    eku: c.eku ?? (c.ca || c.version === 1 ? [] : ['serverAuth' as const]),
    san: c.san.flatMap((s) => (typeof s === 'string' ? [s] : Array.from({ length: s.count }, (_, i) => s.series.replaceAll('{n}', String(i + 1))))),
  }));

const File = z.discriminatedUnion('kind', [
  /** PEM certificates concatenated in the order given; the other fields add the noise real CA files carry. */
  z.strictObject({
    kind: z.literal('bundle'),
    certs: z.array(Name).min(1),
    /** Before each certificate a "#" comment and the subject=/issuer= lines `openssl x509 -subject -issuer` prints, after it a blank line. */
    comments: z.boolean().default(false),
    lineEnd: z.enum(['lf', 'crlf']).default('lf'),
    /** false: the file ends right after the last "-----END CERTIFICATE-----". */
    finalNewline: z.boolean().default(true),
  }),
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
    const signer = r.keys[r.certs[c.issuer ?? name]?.key ?? ''];
    if (signer?.type === 'ec' && c.signature === 'md5') {
      ctx.addIssue({ code: 'custom', path: ['certs', name, 'signature'], message: 'md5 needs an RSA issuer key (there is no ECDSA with MD5)' });
    }
  }
  const isRsa = (cert: string) => r.keys[r.certs[cert]?.key ?? '']?.type !== 'ec';

  const usedKeys = new Set(Object.values(r.certs).map((c) => c.key));
  for (const name of Object.keys(r.keys)) {
    if (!usedKeys.has(name)) ctx.addIssue({ code: 'custom', path: ['keys', name], message: 'not used by any certificate' });
  }

  for (const [name, f] of Object.entries(r.files)) {
    if (f.kind === 'bundle') f.certs.forEach((c, i) => checkCert(['files', name, 'certs', i], c));
    else {
      checkCert(['files', name, 'cert'], f.cert);
      if (f.kind === 'pkcs12') {
        f.chain.forEach((c, i) => checkCert(['files', name, 'chain', i], c));
        // node-forge writes the PKCS#12 files, and it reads RSA keys only.
        [f.cert, ...f.chain].forEach((c, i) => {
          if (!isRsa(c)) ctx.addIssue({ code: 'custom', path: ['files', name, ...(i === 0 ? ['cert'] : ['chain', i - 1])], message: `"${c}" has an EC key: PKCS#12 files hold RSA keys only` });
        });
      }
      if (!secrets.has(f.passphrase)) unknown(['files', name, 'passphrase'], 'secret', f.passphrase);
    }
  }
}).transform((r) => ({
  ...r,
  certs: Object.fromEntries(Object.entries(r.certs).map(([n, c]) => [n, { ...c, validity: c.validity ?? r.defaults.validity }])),
}));

export type Recipes = z.output<typeof Recipes>;
export type CertRecipe = Recipes['certs'][string];
export type KeyRecipe = Recipes['keys'][string];
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
