import { defect } from './defects.ts';
import { JsonSyntaxError, parseJson } from './json-text.ts';

// config.json as this EMS reads it, written from EMS-FACTS.md ("config.json groups used here")
// and on purpose apart from the harness's schema: the harness renders these files, so a default
// both sides got wrong would go unnoticed. test/ems-config.test.ts runs both readers over
// test/fixtures/config-samples/. Every group keeps the members it does not know (the vendor's
// file has many more), and no message quotes a value (it may be a secret).

export type LogLevel = 'AUDIT' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';
const LOG_LEVELS: readonly LogLevel[] = ['AUDIT', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'];

/** Members this reader does not know, kept as they are. */
interface OtherMembers {
  [member: string]: unknown;
}

export interface WsServer extends OtherMembers {
  host: string;
  port: number;
}

export interface WsConnection extends OtherMembers {
  encryption: 'ssl' | 'none';
  verbose: boolean;
  /** Milliseconds for one attempt: TCP + TLS + WebSocket upgrade. */
  connect_timeout: number;
  connect_retry_interval: number;
  /** Attempts before giving up; -1 = forever. */
  connect_retries: number;
  compression: boolean;
  /** Milliseconds to wait for the answer to one AlwaysOn message. */
  msg_timeout: number;
  /** The upgrade's Max-Frame-Size header. */
  max_frame_size: number;
  ping_rate?: number;
  max_msg_size?: number;
}

export interface ValidationCriteria extends OtherMembers {
  Cert_Common_Name?: string;
  Cert_Organization?: string;
  Cert_Organizational_Name?: string;
  CA_Cert_Common_Name?: string;
  CA_Cert_Organization?: string;
  CA_Cert_Organizational_Name?: string;
}

export interface Certificates extends OtherMembers {
  validate: boolean;
  allow_self_signed: boolean;
  cert_chain?: string;
  client_cert?: string;
  key_file?: string;
  /** Clear, or `wsems -encrypt` output. */
  key_passphrase?: string;
  cipher_suite?: string;
  disable_hostname_validation: boolean;
  validation_criteria?: ValidationCriteria;
}

export interface Fips extends OtherMembers {
  enabled: boolean;
}

export interface HttpServer extends OtherMembers {
  host: string;
  port: number;
  ssl?: boolean;
  certificate?: string;
  private_key?: string;
  passphrase?: string;
  authenticate?: boolean;
  user?: string;
  /** Clear, or `wsems -encrypt` output. */
  password?: string;
}

export interface LoggerGroup extends OtherMembers {
  level: LogLevel;
  publish_directory?: string;
  publish_level?: LogLevel;
  max_file_storage?: number;
  auto_flush?: boolean;
}

export interface AutoBind extends OtherMembers {
  name: string;
}

export interface EmsConfig extends OtherMembers {
  ws_servers: WsServer[];
  /** Clear, or `wsems -encrypt` output. */
  appKey: string;
  ws_connection: WsConnection;
  certificates: Certificates;
  fips: Fips;
  http_server: HttpServer;
  logger: LoggerGroup;
  auto_bind?: AutoBind[];
}

/** A config.json this EMS cannot use; the message names the file and where. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Malformed JSON → `<file>:<line>:<col>: malformed JSON: <reason>`; anything else wrong →
 * `<file>: <dotted.path>: <problem>`, every problem, joined by `; `.
 */
export function readConfigText(text: string, file: string): EmsConfig {
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text; // editors on Windows write a BOM
  let document: unknown;
  try {
    document = parseJson(json);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw new ConfigError(`${file}:${lineAndColumn(json, err.offset)}: malformed JSON: ${err.reason}`);
  }
  const problems: string[] = [];
  const config = emsConfig(new Member(document, '', problems));
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${file}: ${p}`).join('; '));
  return config;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return `${before.split('\n').length}:${offset - lineStart + 1}`;
}

// The groups, in the order EMS-FACTS.md lists them; problems are reported in this order.

function emsConfig(root: Member): EmsConfig {
  return omitAbsent({
    ...root.object(),
    ws_servers: root.at('ws_servers').list({ required: true, nonEmpty: true }, wsServer),
    appKey: root.at('appKey').string({ required: true, nonEmpty: true }),
    ws_connection: wsConnection(root.at('ws_connection')),
    certificates: certificates(root.at('certificates')),
    fips: fips(root.at('fips')),
    http_server: httpServer(root.at('http_server')),
    logger: logger(root.at('logger')),
    auto_bind: root.at('auto_bind').list({}, autoBind),
  });
}

const PORT = { min: 1, max: 65535 };

function wsServer(m: Member): WsServer {
  return { ...m.object(), host: m.at('host').string({ required: true, nonEmpty: true }), port: m.at('port').integer({ required: true, ...PORT }) };
}

function wsConnection(m: Member): WsConnection {
  return omitAbsent({
    ...m.object(),
    encryption: m.at('encryption').oneOf(['ssl', 'none'] as const) ?? 'ssl',
    verbose: m.at('verbose').boolean() ?? false,
    connect_timeout: m.at('connect_timeout').integer({ min: 1 }) ?? 10_000,
    connect_retry_interval: m.at('connect_retry_interval').integer({ min: 0 }) ?? 10_000,
    connect_retries: m.at('connect_retries').integer({ min: -1 }) ?? -1,
    compression: m.at('compression').boolean() ?? true,
    msg_timeout: m.at('msg_timeout').integer({ min: 1 }) ?? 10_000,
    max_frame_size: m.at('max_frame_size').integer({ min: 1 }) ?? 8192,
    ping_rate: m.at('ping_rate').integer({ min: 0 }),
    max_msg_size: m.at('max_msg_size').integer({ min: 1 }),
  });
}

function certificates(m: Member): Certificates {
  const allowSelfSigned = m.at('allow_self_signed').boolean() ?? defect('self-signed-default-true');
  return omitAbsent({
    ...m.object(),
    validate: m.at('validate').boolean() ?? !defect('validate-default-false'),
    allow_self_signed: defect('self-signed-always-allowed') || (allowSelfSigned && !defect('self-signed-never-allowed')),
    cert_chain: m.at('cert_chain').string(),
    client_cert: m.at('client_cert').string(),
    key_file: m.at('key_file').string(),
    key_passphrase: m.at('key_passphrase').string(),
    cipher_suite: m.at('cipher_suite').string(),
    disable_hostname_validation: m.at('disable_hostname_validation').boolean() ?? false,
    validation_criteria: validationCriteria(m.at('validation_criteria')),
  });
}

function validationCriteria(m: Member): ValidationCriteria | undefined {
  const members = m.object();
  return members && omitAbsent({
    ...members,
    Cert_Common_Name: m.at('Cert_Common_Name').string(),
    Cert_Organization: m.at('Cert_Organization').string(),
    Cert_Organizational_Name: m.at('Cert_Organizational_Name').string(),
    CA_Cert_Common_Name: m.at('CA_Cert_Common_Name').string(),
    CA_Cert_Organization: m.at('CA_Cert_Organization').string(),
    CA_Cert_Organizational_Name: m.at('CA_Cert_Organizational_Name').string(),
  });
}

function fips(m: Member): Fips {
  const enabled = m.at('enabled').boolean() ?? false;
  return { ...m.object(), enabled: defect('fips-always-on') || (enabled && !defect('fips-ignored')) };
}

function httpServer(m: Member): HttpServer {
  return omitAbsent({
    ...m.object(),
    host: m.at('host').string({ nonEmpty: true }) ?? 'localhost',
    port: m.at('port').integer(PORT) ?? 8000,
    ssl: m.at('ssl').boolean(),
    certificate: m.at('certificate').string(),
    private_key: m.at('private_key').string(),
    passphrase: m.at('passphrase').string(),
    authenticate: m.at('authenticate').boolean(),
    user: m.at('user').string(),
    password: m.at('password').string(),
  });
}

function logger(m: Member): LoggerGroup {
  return omitAbsent({
    ...m.object(),
    level: m.at('level').oneOf(LOG_LEVELS) ?? 'WARN',
    publish_directory: m.at('publish_directory').string(),
    publish_level: m.at('publish_level').oneOf(LOG_LEVELS),
    max_file_storage: m.at('max_file_storage').integer({ min: 0 }),
    auto_flush: m.at('auto_flush').boolean(),
  });
}

function autoBind(m: Member): AutoBind {
  return { ...m.object(), name: m.at('name').string({ required: true, nonEmpty: true }) };
}

/** Drops the members read as undefined: optional ones the file leaves out (JSON has no undefined). */
function omitAbsent<T extends object>(group: T): T {
  const members = group as Record<string, unknown>;
  for (const name of Object.keys(members)) if (members[name] === undefined) delete members[name];
  return group;
}

interface Rule {
  /** Absent is a problem, not a default. */
  required?: boolean;
  /** '' or [] is a problem. */
  nonEmpty?: boolean;
}

interface Range extends Rule {
  min: number;
  max?: number;
}

/**
 * One member of the document: its value, its dotted path, and where problems about it go. A read
 * gives the value, or undefined when it is absent or wrong (a wrong one adds a problem). A
 * required read gives its type's empty value instead; the problem recorded makes readConfigText
 * throw, so that value never leaves it. The members of a value that is no object (or no array)
 * read as absent, silently: that value's own problem is the one to report.
 */
class Member {
  constructor(
    private readonly value: unknown,
    private readonly path: string,
    private readonly problems: string[],
    private readonly reachable = true,
  ) {}

  at(key: string | number): Member {
    const parent = this.value;
    const path = typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
    if (typeof key === 'number') return new Member(Array.isArray(parent) ? parent[key] : undefined, path, this.problems, Array.isArray(parent));
    const inObject = isObject(parent);
    return new Member(inObject && Object.hasOwn(parent, key) ? parent[key] : undefined, path, this.problems, inObject);
  }

  /** An object's members; undefined when absent (a group left out has every default) or wrong. */
  object(): Record<string, unknown> | undefined {
    return this.typed('object', isObject);
  }

  /** Each element of an array, read by `each`. */
  list<T>(rule: Rule & { required: true }, each: (element: Member) => T): T[];
  list<T>(rule: Rule, each: (element: Member) => T): T[] | undefined;
  list<T>(rule: Rule, each: (element: Member) => T): T[] | undefined {
    const value = this.typed('array', Array.isArray, rule);
    if (value?.length === 0 && rule.nonEmpty) this.problem('must not be empty');
    const elements = value?.map((_, i) => each(this.at(i)));
    return rule.required ? (elements ?? []) : elements;
  }

  string(rule: Rule & { required: true }): string;
  string(rule?: Rule): string | undefined;
  string(rule: Rule = {}): string | undefined {
    const value = this.typed('string', isString, rule);
    if (value === '' && rule.nonEmpty) this.problem('must not be empty');
    return rule.required ? (value ?? '') : value;
  }

  boolean(): boolean | undefined {
    return this.typed('boolean', isBoolean);
  }

  integer(rule: Range & { required: true }): number;
  integer(rule: Range): number | undefined;
  integer(rule: Range): number | undefined {
    const value = this.typed('number', isNumber, rule);
    if (value === undefined) return rule.required ? 0 : undefined;
    if (!Number.isInteger(value)) this.problem('expected integer, got non-integer number');
    else if (value < rule.min) this.problem(`must be at least ${rule.min}`);
    else if (rule.max !== undefined && value > rule.max) this.problem(`must be at most ${rule.max}`);
    return value;
  }

  oneOf<T extends string>(options: readonly T[]): T | undefined {
    const value = this.typed('string', isString);
    if (value === undefined) return undefined;
    const option = options.find((o) => o === value);
    if (option === undefined) this.problem(`expected one of ${options.join(', ')}`);
    return option;
  }

  private typed<T>(expected: string, is: (v: unknown) => v is T, rule: Rule = {}): T | undefined {
    if (!this.reachable) return undefined;
    if (this.value === undefined) {
      if (rule.required) this.problem(`required (expected ${expected})`);
      return undefined;
    }
    if (is(this.value)) return this.value;
    this.problem(`expected ${expected}, got ${typeName(this.value)}`);
    return undefined;
  }

  private problem(text: string): void {
    this.problems.push(`${this.path || '(root)'}: ${text}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isNumber = (v: unknown): v is number => typeof v === 'number';

function typeName(v: unknown): string {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'array' : typeof v;
}
