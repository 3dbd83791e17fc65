import * as z from 'zod';

// The harness's schema of a WS EMS config.json (EMS-FACTS.md "config.json groups"), used by the
// renderer. The simulator reads config.json with its own reader (targets/simulator/config.ts);
// test/ems-config.test.ts holds both to the samples of test/fixtures/config-samples/. Every group
// is a loose object: the real file carries many more properties than the harness cares about, and
// they must survive.

export const LOG_LEVELS = ['AUDIT', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

const Port = z.number().int().min(1).max(65535);

export const WsServer = z.looseObject({
  host: z.string().min(1),
  port: Port,
});

export const WsConnection = z.looseObject({
  encryption: z.enum(['ssl', 'none']).default('ssl'),
  verbose: z.boolean().default(false),
  /** Milliseconds for one attempt: TCP + TLS + WebSocket upgrade. */
  connect_timeout: z.number().int().positive().default(10000),
  connect_retry_interval: z.number().int().nonnegative().default(10000),
  /** Connection attempts before giving up; -1 = forever (C SDK twApi_Connect). */
  connect_retries: z.number().int().min(-1).default(-1),
  compression: z.boolean().default(true),
  /** Milliseconds to wait for the answer to one AlwaysOn message (AUTH, BIND). */
  msg_timeout: z.number().int().positive().default(10000),
  /** Sent as the upgrade's `Max-Frame-Size` header (the SDK's message chunk size). */
  max_frame_size: z.number().int().positive().default(8192),
  ping_rate: z.number().int().nonnegative().optional(),
  max_msg_size: z.number().int().positive().optional(),
});

export const ValidationCriteria = z.looseObject({
  Cert_Common_Name: z.string().optional(),
  Cert_Organization: z.string().optional(),
  Cert_Organizational_Name: z.string().optional(),
  CA_Cert_Common_Name: z.string().optional(),
  CA_Cert_Organization: z.string().optional(),
  CA_Cert_Organizational_Name: z.string().optional(),
});

export const Certificates = z.looseObject({
  validate: z.boolean().default(true),
  allow_self_signed: z.boolean().default(false),
  cert_chain: z.string().optional(),
  client_cert: z.string().optional(),
  key_file: z.string().optional(),
  /** Clear or the output of `wsems -encrypt`. */
  key_passphrase: z.string().optional(),
  cipher_suite: z.string().optional(),
  disable_hostname_validation: z.boolean().default(false),
  validation_criteria: ValidationCriteria.optional(),
});

export const Fips = z.looseObject({
  enabled: z.boolean().default(false),
});

export const HttpServer = z.looseObject({
  host: z.string().min(1).default('localhost'),
  port: Port.default(8000),
  ssl: z.boolean().optional(),
  certificate: z.string().optional(),
  private_key: z.string().optional(),
  passphrase: z.string().optional(),
  authenticate: z.boolean().optional(),
  user: z.string().optional(),
  /** Clear or the output of `wsems -encrypt`. */
  password: z.string().optional(),
});

export const Logger = z.looseObject({
  level: z.enum(LOG_LEVELS).default('WARN'),
  publish_directory: z.string().optional(),
  publish_level: z.enum(LOG_LEVELS).optional(),
  max_file_storage: z.number().int().nonnegative().optional(),
  auto_flush: z.boolean().optional(),
});

export const AutoBind = z.array(z.looseObject({ name: z.string().min(1) }));

// `prefault` (not `default`) so an absent group is parsed as `{}` and gets its members' defaults.
export const EmsConfig = z.looseObject({
  ws_servers: z.array(WsServer).min(1),
  /** Clear or the output of `wsems -encrypt`. */
  appKey: z.string().min(1),
  ws_connection: WsConnection.prefault({}),
  certificates: Certificates.prefault({}),
  fips: Fips.prefault({}),
  http_server: HttpServer.prefault({}),
  logger: Logger.prefault({}),
  auto_bind: AutoBind.optional(),
});

/** A config.json after defaults. */
export type EmsConfig = z.output<typeof EmsConfig>;
/** What a config.json may say (defaults optional). */
export type EmsConfigInput = z.input<typeof EmsConfig>;

/** A config.json the EMS cannot use; the message names the file and where it went wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses config.json text. Malformed JSON → `<file>:<line>:<col>: malformed JSON: <reason>`;
 * schema violations → `<file>: <dotted.path>: <problem>` (several joined by `; `).
 * Messages never quote the file's values: they may be secrets.
 */
export function parseConfigText(text: string, file: string): EmsConfig {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // tolerate a UTF-8 BOM
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    const offset = jsonErrorOffset(body);
    const { line, column } = lineColumn(body, offset);
    throw new ConfigError(`${file}:${line}:${column}: malformed JSON: ${jsonReason(err)}`);
  }
  const result = EmsConfig.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${file}: ${dottedPath(issue.path)}: ${describeIssue(issue)}`);
  throw new ConfigError(problems.join('; '));
}

function dottedPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return `required (expected ${issue.expected})`;
    return `expected ${issue.expected}, got ${typeName(issue.input)}`;
  }
  return issue.message;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && !Number.isInteger(v)) return 'number (not an integer)';
  return typeof v;
}

/** V8's reason without the quoted excerpt of the input (it may hold an app key) or the position. */
function jsonReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg
    .replace(/, (\.\.\.)?".*$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '');
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Offset of the first JSON syntax error (V8 does not report a position for every error, e.g.
 * "Unexpected token"). A strict RFC 8259 recogniser: it only locates, JSON.parse decides.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const skipWs = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const digits = () => {
    if (!/[0-9]/.test(text[i] ?? '')) fail();
    while (/[0-9]/.test(text[i] ?? '')) i++;
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      const ch = text[i];
      if (ch === undefined || ch.charCodeAt(0) < 0x20) fail();
      if (ch === '"') {
        i++;
        return;
      }
      if (ch === '\\') {
        i++;
        const esc = text[i];
        if (esc === 'u') {
          for (let k = 0; k < 4; k++) {
            i++;
            if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail();
          }
        } else if (esc === undefined || !'"\\/bfnrt'.includes(esc)) fail();
      }
      i++;
    }
  };
  const container = (close: '}' | ']', member: () => void) => {
    i++; // opening bracket
    skipWs();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      skipWs();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      fail();
    }
  };
  const value = (): void => {
    skipWs();
    const ch = text[i];
    if (ch === '{') {
      container('}', () => {
        skipWs();
        if (text[i] !== '"') fail();
        string();
        skipWs();
        if (text[i] !== ':') fail();
        i++;
        value();
      });
    } else if (ch === '[') container(']', value);
    else if (ch === '"') string();
    else if (ch === '-' || /[0-9]/.test(ch ?? '')) number();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else fail();
  };
  try {
    value();
    skipWs();
    if (i < text.length) fail();
    return -1;
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
}
