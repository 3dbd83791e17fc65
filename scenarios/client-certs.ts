import { family } from '../harness/scenario/model.ts';
import { VALIDATING } from './lib/common.ts';

// client_cert + key_file (mutual TLS) and the key formats key_file accepts.

const REQUIRE_CLIENT_CERT = { cert: 'leaf-valid', clientAuth: { require: true, trust: 'client-ca' } } as const;
const CLIENT_PEM = { client_cert: { cert: 'client-valid' }, key_file: { key: 'client-valid' } } as const;

export default family('client-certificates', { endpoint: REQUIRE_CLIENT_CERT, ems: { certificates: VALIDATING } }, [
  {
    id: 'client.none-presented',
    title: 'Platform requires a client certificate, EMS has none: refused (client certificate required)',
    requirements: ['CERT-CLIENT'],
    expect: { outcome: 'refuses', class: 'client-cert-required' },
  },
  {
    id: 'client.trusted-pem',
    title: 'client_cert + PEM key_file from the trusted client CA: connects with mutual TLS',
    requirements: ['CERT-CLIENT', 'CERT-KEYFORMAT'],
    ems: { certificates: CLIENT_PEM },
    expect: { outcome: 'connects' },
  },
  {
    id: 'client.trusted-pem.validate-off',
    title: 'validate: false, the platform requiring a client certificate: the EMS still presents it, connects',
    requirements: ['CERT-CLIENT'],
    ems: { certificates: { validate: false, ...CLIENT_PEM } },
    expect: { outcome: 'connects' },
  },
  {
    id: 'client.chained',
    title: 'client_cert holding the client certificate and its intermediate, the platform trusting only the client root: the EMS sends the chain, connects',
    requirements: ['CERT-CLIENT'],
    ems: { certificates: { client_cert: { file: 'client-chained-with-intermediate.pem' }, key_file: { key: 'client-chained' } } },
    expect: { outcome: 'connects' },
  },
  {
    id: 'client.rogue-ca',
    title: 'Client certificate from a CA the platform does not trust: refused (client certificate rejected)',
    requirements: ['CERT-CLIENT'],
    ems: { certificates: { client_cert: { cert: 'client-rogue' }, key_file: { key: 'client-rogue' } } },
    expect: { outcome: 'refuses', class: 'client-cert-rejected' },
  },
  {
    id: 'client.optional-none',
    title: 'Platform asks for but does not require a client certificate, EMS has none: connects',
    requirements: ['CERT-CLIENT'],
    endpoint: { clientAuth: { require: false, trust: 'client-ca' } },
    expect: { outcome: 'connects' },
  },
  // CERT-KEYFORMAT: each encrypted format opens with its passphrase, fails clearly without it.
  ...([
    ['enc-pem', 'client-valid.enc.pem', 'pem-pass'],
    ['p8', 'client-valid.p8', 'p8-pass'],
    ['p12', 'client-valid.p12', 'p12-pass'],
  ] as const).flatMap(([name, file, secret]) => [
    {
      id: `client.key-${name}`,
      title: `key_file ${file} with its key_passphrase: connects`,
      requirements: ['CERT-KEYFORMAT' as const, 'CERT-CLIENT' as const],
      ems: { certificates: { client_cert: { cert: 'client-valid' }, key_file: { file }, key_passphrase: { secret } } },
      expect: { outcome: 'connects' as const },
    },
    {
      id: `client.key-${name}.wrong-passphrase`,
      title: `key_file ${file} with a wrong key_passphrase: fails with a key-load error, not a hang`,
      requirements: ['CERT-KEYFORMAT' as const],
      ems: { certificates: { client_cert: { cert: 'client-valid' }, key_file: { file }, key_passphrase: { literal: 'not-the-passphrase' } } },
      expect: { outcome: 'refuses' as const, class: 'key-load-error' as const },
    },
    {
      id: `client.key-${name}.no-passphrase`,
      title: `key_file ${file} without key_passphrase: fails with a key-load error`,
      requirements: ['CERT-KEYFORMAT' as const],
      ems: { certificates: { client_cert: { cert: 'client-valid' }, key_file: { file } } },
      expect: { outcome: 'refuses' as const, class: 'key-load-error' as const },
    },
  ]),
  {
    id: 'client.key-missing-file',
    title: 'key_file naming a file that does not exist: fails with a key-load error naming it',
    requirements: ['CERT-KEYFORMAT'],
    ems: { certificates: { client_cert: { cert: 'client-valid' }, key_file: { missing: 'no-such-key.pem' } } },
    expect: { outcome: 'refuses', class: 'key-load-error' },
  },
]);
