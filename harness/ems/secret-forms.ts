// The plain encodings of a secret, as text that would reveal it (SECRET-NOLOG, SECRET-ENCRYPT):
// the clear value itself, base64 and base64url at each of the three byte alignments, hex in either
// case, URL-encoding. Shared by the log search (secret-leaks.ts) and the strength check of
// `-encrypt` output (encryption-strength.ts).

export type Encoding = 'clear' | 'base64' | 'base64url' | 'hex' | 'url-encoded';

export interface SecretForm {
  encoding: Encoding;
  text: string;
  /** Hex compares without case. */
  caseless?: boolean;
}

/**
 * Base64 of the secret as it appears inside a longer base64 text (a Basic auth header, an encoded
 * frame): the bytes before it shift its bits, so at each alignment only the characters made of the
 * secret's bits alone are fixed. Those characters are the form searched for.
 */
function base64Cores(bytes: Buffer, url: boolean): string[] {
  const cores = new Set<string>();
  for (let shift = 0; shift < 3; shift++) {
    const text = Buffer.concat([Buffer.alloc(shift), bytes]).toString(url ? 'base64url' : 'base64').replace(/=+$/, '');
    const firstBit = shift * 8;
    const endBit = (shift + bytes.length) * 8;
    // Character j holds bits [6j, 6j + 6): keep those that lie inside the secret's bits.
    const from = Math.ceil(firstBit / 6);
    const to = Math.floor(endBit / 6);
    if (to > from) cores.add(text.slice(from, to));
  }
  return [...cores];
}

/** Every form of `secret` that gives it away; the clear value first. */
export function secretForms(secret: string): SecretForm[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: SecretForm[] = [{ encoding: 'clear', text: secret }];
  const add = (form: SecretForm) => {
    if (!forms.some((f) => f.text === form.text)) forms.push(form);
  };
  for (const text of base64Cores(bytes, false)) add({ encoding: 'base64', text });
  for (const text of base64Cores(bytes, true)) add({ encoding: 'base64url', text });
  add({ encoding: 'hex', text: bytes.toString('hex'), caseless: true });
  add({ encoding: 'url-encoded', text: encodeURIComponent(secret) });
  add({ encoding: 'url-encoded', text: encodeURIComponent(secret).replace(/%20/g, '+') });
  return forms;
}

/** Where in `text` a form of the secret first appears, or undefined. */
export function findForm(text: string, forms: readonly SecretForm[]): { form: SecretForm; index: number } | undefined {
  let lower: string | undefined;
  for (const form of forms) {
    const index = form.caseless ? (lower ??= text.toLowerCase()).indexOf(form.text.toLowerCase()) : text.indexOf(form.text);
    if (index >= 0) return { form, index };
  }
  return undefined;
}
