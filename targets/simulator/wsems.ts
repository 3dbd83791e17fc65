import { Command } from 'commander';
import type { Server } from 'node:http';
import type { Flavour } from '../target.ts';
import { Connector } from './connect.ts';
import { errorText, StartupError } from './keys.ts';
import { Logger } from './log.ts';
import { bindHost, startRest } from './rest.ts';
import { encryptSecret, keyFilePath, loadOrCreateKey } from './secrets.ts';
import { prepare } from './startup.ts';
import { policyFor } from './tls-policy.ts';

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

function encrypt(secret: string): never {
  try {
    process.stdout.write(`${encryptSecret(secret, loadOrCreateKey(keyFilePath()))}\n`);
  } catch (err) {
    process.stderr.write(`wsems: -encrypt: ${errorText(err)}\n`);
    process.exit(EXIT.startup);
  }
  process.exit(EXIT.ok);
}

async function run(configFile: string): Promise<never> {
  const flavour = flavourFromEnv();
  const policy = policyFor(flavour);
  const log = new Logger();
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
    settings = await prepare(configFile, policy);
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    log.fatal(err.message);
    process.exit(EXIT.startup);
  }
  for (const secret of [settings.appKey, settings.httpPassword]) if (secret) log.addSecret(secret);
  log.setLevel(settings.config.logger.level);
  log.force(`wsems simulator starting: flavour ${flavour}, config ${configFile}`);
  log.debug('appKey: present'); // its value is never logged

  const activeConnector = new Connector(settings, policy, log);
  connector = activeConnector;
  const http = settings.config.http_server;
  try {
    rest = await startRest(settings, () => activeConnector.connected);
  } catch (err) {
    log.fatal(`wsems: http_server cannot listen on ${bindHost(http.host)}:${http.port}: ${errorText(err)}`);
    process.exit(EXIT.restPort);
  }
  const outcome = await activeConnector.run();
  rest.close();
  process.exit(outcome === 'exhausted' ? EXIT.exhausted : EXIT.ok);
}

const program = new Command('wsems')
  .description('Simulated ThingWorx WS EMS (the conformance harness stand-in for the vendor executable)')
  .option('--cfg <file>', 'config.json to run with (vendor spelling: -cfg)', DEFAULT_CONFIG)
  .option('--encrypt <string>', 'print the encrypted form of an app key, password or passphrase (vendor spelling: -encrypt)')
  .parse(normaliseArgv(process.argv.slice(2)), { from: 'user' });
const opts = program.opts<{ cfg: string; encrypt?: string }>();
if (opts.encrypt !== undefined) encrypt(opts.encrypt);
await run(opts.cfg);
