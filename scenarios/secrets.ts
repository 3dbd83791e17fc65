import { family } from '../harness/scenario/model.ts';
import { VALIDATING } from './lib/common.ts';

// SECRET-ENCRYPT: the target's own `wsems -encrypt` output, pasted in place of the clear value,
// works the same (and a wrong secret fails the same way encrypted as clear). Its strength part
// (the output gives the clear value back by no plain decoding) and SECRET-NOLOG (no clear secret in
// anything the EMS writes) are checked in every scenario of every family (harness/scenario/
// secret-checks.ts); the SECRET-NOLOG scenarios here hand the EMS every kind of secret at once, at
// the most verbose logging it has (logger TRACE, ws_connection verbose): that is where SDKs leak.

const REQUIRE_CLIENT_CERT = { cert: 'leaf-valid', clientAuth: { require: true, trust: 'client-ca' } } as const;
/** The most verbose the EMS logs: every level (EMS-FACTS: AUDIT … TRACE) and the connection's verbose switch. */
const MOST_VERBOSE = { logger: { level: 'TRACE' }, ws_connection: { verbose: true } } as const;
/** An encrypted PEM key: every profile loads it (the C SDK 2.2.1 takes PEM only). */
const PEM_KEY = { client_cert: { cert: 'client-valid' }, key_file: { file: 'client-valid.enc.pem' } } as const;

export default family('secrets', { ems: { certificates: VALIDATING } }, [
  {
    id: 'secret.app-key-encrypted',
    title: 'Encrypted appKey authenticates like the clear one',
    requirements: ['SECRET-ENCRYPT'],
    appKey: 'encrypted',
    expect: { outcome: 'connects' },
  },
  ...([
    ['p12', 'client-valid.p12', 'p12-pass'],
    ['p8', 'client-valid.p8', 'p8-pass'],
  ] as const).map(([name, file, secret]) => ({
    id: `secret.passphrase-encrypted.${name}`,
    title: `Encrypted key_passphrase opens ${file} like the clear one`,
    requirements: ['SECRET-ENCRYPT' as const, 'CERT-KEYFORMAT' as const],
    endpoint: REQUIRE_CLIENT_CERT,
    ems: { certificates: { client_cert: { cert: 'client-valid' }, key_file: { file }, key_passphrase: { secret, encrypt: true } } },
    expect: { outcome: 'connects' as const },
  })),
  {
    id: 'secret.all-encrypted',
    title: 'Encrypted appKey and encrypted key_passphrase together: connects with mutual TLS',
    requirements: ['SECRET-ENCRYPT'],
    appKey: 'encrypted',
    endpoint: REQUIRE_CLIENT_CERT,
    ems: { certificates: { client_cert: { cert: 'client-valid' }, key_file: { file: 'client-valid.p12' }, key_passphrase: { secret: 'p12-pass', encrypt: true } } },
    expect: { outcome: 'connects' },
  },
  // --- SECRET-NOLOG -------------------------------------------------------------------------
  {
    id: 'secret.nolog.trace-encrypted',
    title: 'TRACE logging, encrypted appKey and encrypted key_passphrase, mutual TLS: connects, and no clear secret in anything the EMS wrote',
    requirements: ['SECRET-NOLOG', 'SECRET-ENCRYPT'],
    appKey: 'encrypted',
    endpoint: REQUIRE_CLIENT_CERT,
    ems: { certificates: { ...PEM_KEY, key_passphrase: { secret: 'pem-pass', encrypt: true } }, extra: MOST_VERBOSE },
    expect: { outcome: 'connects' },
  },
  {
    id: 'secret.nolog.trace-clear',
    title: 'TRACE logging, clear appKey and clear key_passphrase, mutual TLS: connects, and the EMS never writes either',
    requirements: ['SECRET-NOLOG'],
    endpoint: REQUIRE_CLIENT_CERT,
    ems: { certificates: { ...PEM_KEY, key_passphrase: { secret: 'pem-pass' } }, extra: MOST_VERBOSE },
    expect: { outcome: 'connects' },
  },
  {
    id: 'secret.nolog.wrong-passphrase',
    title: 'TRACE logging, a wrong key_passphrase: a key-load error that does not quote the passphrase',
    requirements: ['SECRET-NOLOG'],
    endpoint: REQUIRE_CLIENT_CERT,
    ems: { certificates: { ...PEM_KEY, key_passphrase: { literal: 'not-the-passphrase' } }, extra: MOST_VERBOSE },
    expect: { outcome: 'refuses', class: 'key-load-error' },
  },
  {
    id: 'secret.wrong-passphrase-encrypted',
    title: 'An encrypted wrong passphrase fails like a clear wrong one: key-load error',
    requirements: ['SECRET-ENCRYPT'],
    endpoint: REQUIRE_CLIENT_CERT,
    ems: { certificates: { client_cert: { cert: 'client-valid' }, key_file: { file: 'client-valid.p12' }, key_passphrase: { literal: 'not-the-passphrase', encrypt: true } } },
    expect: { outcome: 'refuses', class: 'key-load-error' },
  },
]);
