import type { Server } from 'node:http';
import { Connector } from './connect.ts';
import { armFromEnvironment } from './defects.ts';
import { errorText, StartupError } from './keys.ts';
import { Logger } from './log.ts';
import { insecureSettingWarnings } from './http-server.ts';
import { bindHost, startRest } from './rest.ts';
import { encryptSecret, keyFilePath, loadOrCreateKey } from './secrets.ts';
import { isProfileName, PROFILES, type SdkProfile } from './profile.ts';
import { prepare } from './startup.ts';
import type { Flavour } from './tls-policy.ts';

// The simulated WS EMS: same command line as the vendor's wsems, same config.json, same log lines.
// Exit codes: 0 = stopped by SIGTERM/SIGINT (or -encrypt done), 1 = refused to start (config,
// key, certificate files), 2 = connect_retries exhausted, 3 = local REST port unavailable.

const DEFAULT_CONFIG = 'microserver/etc/config.json'; // relative to the working directory, as wsems
const EXIT = { ok: 0, startup: 1, exhausted: 2, restPort: 3 } as const;

/**
 * The vendor's options are single-dash long words (`-cfg`, `-encrypt`); Commander would read
 * `-cfg` as the short flags -c -f -g. Those two spellings become `--cfg=<value>` /
 * `--encrypt=<value>` first, joined to the word after them so that a value starting with a dash
 * (a secret may) is still taken as the value.
 */
function normaliseArgv(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if ((arg === '-cfg' || arg === '-encrypt') && i + 1 < args.length) out.push(`-${arg}=${args[++i]}`);
    else if (arg === '-cfg' || arg === '-encrypt') out.push(`-${arg}`); // Commander reports the missing value
    else out.push(arg);
  }
  return out;
}

function flavourFromEnv(): Flavour {
  const value = process.env['WSEMS_SIM_FLAVOUR'] || 'openssl';
  if (value === 'openssl' || value === 'axtls') return value;
  process.stderr.write(`wsems: WSEMS_SIM_FLAVOUR must be openssl or axtls, not ${JSON.stringify(value)}\n`);
  process.exit(EXIT.startup);
}

/** WSEMS_SIM_PROFILE: which EMS build to play (profile.ts); the C SDK 2.2.1 is an OpenSSL build. */
function profileFromEnv(flavour: Flavour): SdkProfile {
  const value = process.env['WSEMS_SIM_PROFILE'] || 'default';
  if (!isProfileName(value)) {
    process.stderr.write(`wsems: WSEMS_SIM_PROFILE must be ${Object.keys(PROFILES).join(' or ')}, not ${JSON.stringify(value)}\n`);
    process.exit(EXIT.startup);
  }
  if (value !== 'default' && flavour !== 'openssl') {
    process.stderr.write(`wsems: WSEMS_SIM_PROFILE ${value} is an OpenSSL build; WSEMS_SIM_FLAVOUR must be openssl, not ${flavour}\n`);
    process.exit(EXIT.startup);
  }
  return PROFILES[value];
}

function encrypt(secret: string): never {
  try {
    process.stdout.write(`${encryptSecret(secret, loadOrCreateKey(keyFilePath()))}\n`);
  } catch (err) {
    process.stderr.write(`wsems: -encrypt: ${errorText(err)}\n`);
    process.exit(EXIT.startup);
  }
  process.exit(EXIT.ok);
}

async function run(configFile: string, injected: string | undefined): Promise<never> {
  const flavour = flavourFromEnv();
  const profile = profileFromEnv(flavour);
  const log = new Logger();
  // Before anything that can fail: every run of a defective EMS says so, whatever happens next.
  if (injected) log.force(`wsems simulator: ${injected}`);
  let connector: Connector | undefined;
  let rest: Server | undefined;
  const shutdown = () => {
    connector?.stop();
    rest?.close();
    rest?.closeAllConnections();
    process.exit(EXIT.ok);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  let settings;
  try {
    settings = await prepare(configFile, flavour, profile);
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    log.fatal(err.message);
    process.exit(EXIT.startup);
  }
  for (const secret of [settings.appKey, ...settings.otherSecrets]) log.addSecret(secret);
  log.setLevel(settings.config.logger.level);
  const { policy } = settings;
  const played = profile.name === 'default' ? '' : `, profile ${profile.name}`;
  const defective = injected ? `, ${injected.split(' (')[0]}` : '';
  log.force(`wsems simulator starting: flavour ${flavour}${played}, TLS policy ${policy.name}, config ${configFile}${defective}`);
  // The SDK tests a macro that every build defines, so says this whatever it links (EMS-FACTS).
  if (profile.sdkLines) log.info('FIPS Capable');
  if (!policy.honoursCipherSuite && settings.config.certificates.cipher_suite) {
    log.debug(`certificates.cipher_suite ignored: this build offers its fixed suites ${policy.cipherList(settings.config.certificates)}`);
  }
  log.debug('appKey: present'); // its value is never logged
  for (const warning of insecureSettingWarnings(settings.config)) log.warn(warning);

  const activeConnector = new Connector(settings, policy, log, profile);
  connector = activeConnector;
  const http = settings.config.http_server;
  try {
    rest = await startRest(settings, policy, () => activeConnector.connected);
  } catch (err) {
    log.fatal(`wsems: http_server cannot listen on ${bindHost(http.host)}:${http.port}: ${errorText(err)}`);
    process.exit(EXIT.restPort);
  }
  const outcome = await activeConnector.run();
  rest.close();
  process.exit(outcome === 'exhausted' ? EXIT.exhausted : EXIT.ok);
}

/**
 * The harness always calls `-cfg <file>` or `-encrypt <string>`; those two forms are read here
 * directly, because loading Commander (it pulls in child_process) is a measurable share of every
 * start-up. Every other command line goes to Commander, so help, errors and spellings are unchanged.
 */
async function parseArgs(args: string[]): Promise<{ cfg: string; encrypt?: string }> {
  if (args.length === 2 && args[0] === '-cfg') return { cfg: args[1] as string };
  if (args.length === 2 && args[0] === '-encrypt') return { cfg: DEFAULT_CONFIG, encrypt: args[1] as string };
  const { Command } = await import('commander');
  return new Command('wsems')
    .description('Simulated ThingWorx WS EMS (the conformance harness stand-in for the vendor executable)')
    .option('--cfg <file>', 'config.json to run with (vendor spelling: -cfg)', DEFAULT_CONFIG)
    .option('--encrypt <string>', 'print the encrypted form of an app key, password or passphrase (vendor spelling: -encrypt)')
    .parse(normaliseArgv(args), { from: 'user' })
    .opts<{ cfg: string; encrypt?: string }>();
}

/**
 * The command line after the program name. Called by what build.mjs generates (the start-up
 * snapshot's main, or the launcher); nothing runs when the bundle is only loaded. An error escaping
 * it is an unhandled rejection, which ends the process with code 1 just the same.
 */
export async function main(args: string[]): Promise<never> {
  const opts = await parseArgs(args);
  let injected: string | undefined;
  try {
    injected = armFromEnvironment(process.env);
  } catch (err) {
    process.stderr.write(`wsems: ${errorText(err)}\n`);
    process.exit(EXIT.startup);
  }
  if (opts.encrypt !== undefined) {
    if (injected) process.stderr.write(`wsems: ${injected}\n`); // stdout is the encrypted value alone
    encrypt(opts.encrypt);
  }
  return run(opts.cfg, injected);
}
