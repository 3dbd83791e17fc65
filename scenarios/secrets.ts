import { family } from '../harness/scenario/model.ts';
import { VALIDATING } from './lib/common.ts';

// SECRET-ENCRYPT: the target's own `wsems -encrypt` output, pasted in place of the clear value,
// works the same (and a wrong secret fails the same way encrypted as clear).

const REQUIRE_CLIENT_CERT = { cert: 'leaf-valid', clientAuth: { require: true, trust: 'client-ca' } } as const;

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
  {
    id: 'secret.wrong-passphrase-encrypted',
    title: 'An encrypted wrong passphrase fails like a clear wrong one: key-load error',
    requirements: ['SECRET-ENCRYPT'],
    endpoint: REQUIRE_CLIENT_CERT,
    ems: { certificates: { client_cert: { cert: 'client-valid' }, key_file: { file: 'client-valid.p12' }, key_passphrase: { literal: 'not-the-passphrase', encrypt: true } } },
    expect: { outcome: 'refuses', class: 'key-load-error' },
  },
]);
