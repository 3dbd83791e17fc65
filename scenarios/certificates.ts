import { family } from '../harness/scenario/model.ts';
import { VALIDATING } from './lib/common.ts';

// The `certificates` group: validate, allow_self_signed, cert_chain, host name, path forms.

const NOT_VALIDATING = { validate: false } as const;

export default family('certificates', {}, [
  // CERT-VALIDATE: with validation off, anything connects; with it on, the same certificates are refused.
  ...(['leaf-expired', 'leaf-self-signed', 'leaf-wrong-host', 'leaf-untrusted', 'leaf-eku-client-only'] as const).map((cert) => ({
    id: `cert.validate-off.${cert}`,
    title: `validate: false connects to a platform presenting ${cert}`,
    requirements: ['CERT-VALIDATE' as const],
    endpoint: { cert },
    ems: { certificates: NOT_VALIDATING },
    expect: { outcome: 'connects' as const },
  })),
  {
    id: 'cert.validate-default-on',
    title: 'validate left out defaults to true: an untrusted platform is refused',
    requirements: ['CERT-VALIDATE'],
    endpoint: { cert: 'leaf-untrusted' },
    ems: { certificates: { cert_chain: { file: 'chain-root.pem' } } },
    expect: { outcome: 'refuses', class: 'untrusted-cert' },
  },
  // CERT-SELFSIGNED
  {
    id: 'cert.self-signed.refused',
    title: 'allow_self_signed: false refuses a self-signed platform certificate',
    requirements: ['CERT-SELFSIGNED'],
    endpoint: { cert: 'leaf-self-signed' },
    ems: { certificates: VALIDATING },
    expect: { outcome: 'refuses', class: 'self-signed' },
  },
  {
    id: 'cert.self-signed.allowed',
    title: 'allow_self_signed: true accepts a self-signed platform certificate',
    requirements: ['CERT-SELFSIGNED'],
    endpoint: { cert: 'leaf-self-signed' },
    ems: { certificates: { ...VALIDATING, allow_self_signed: true } },
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.self-signed.allowed-default-off',
    title: 'allow_self_signed left out defaults to false: a self-signed certificate is refused',
    requirements: ['CERT-SELFSIGNED'],
    endpoint: { cert: 'leaf-self-signed' },
    ems: { certificates: { validate: true, cert_chain: { file: 'chain-root.pem' } } },
    expect: { outcome: 'refuses', class: 'self-signed' },
  },
  {
    id: 'cert.self-signed.allowed-still-checks-ca',
    title: 'allow_self_signed: true forgives only self-signed: a CA-issued untrusted chain is still refused',
    requirements: ['CERT-SELFSIGNED', 'BASE-UNTRUSTED'],
    endpoint: { cert: 'leaf-untrusted' },
    ems: { certificates: { ...VALIDATING, allow_self_signed: true } },
    expect: { outcome: 'refuses', class: 'untrusted-cert' },
  },
  // CERT-CHAIN
  {
    id: 'cert.chain.issuer-not-first',
    title: 'cert_chain holding several CAs, the issuing root last: every CA is loaded, connects',
    requirements: ['CERT-CHAIN'],
    endpoint: { cert: 'leaf-valid' },
    ems: { certificates: { ...VALIDATING, cert_chain: { file: 'chain-issuer-last.pem' } } },
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.chain.other-ca-only',
    title: 'cert_chain without the platform root: refused as untrusted',
    requirements: ['CERT-CHAIN'],
    endpoint: { cert: 'leaf-valid' },
    ems: { certificates: { ...VALIDATING, cert_chain: { file: 'chain-other.pem' } } },
    expect: { outcome: 'refuses', class: 'untrusted-cert' },
  },
  {
    id: 'cert.chain.single-root-file',
    title: 'cert_chain naming the root certificate file alone: connects',
    requirements: ['CERT-CHAIN'],
    endpoint: { cert: 'leaf-valid' },
    ems: { certificates: { ...VALIDATING, cert_chain: { cert: 'root-ca' } } },
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.chain.served-out-of-order',
    title: 'Platform sends its chain in reversed order (root before intermediate): the chain is still built, connects',
    requirements: ['CERT-CHAIN'],
    endpoint: { cert: 'leaf-valid', chain: ['root-ca', 'intermediate-ca'] },
    ems: { certificates: VALIDATING },
    expect: { outcome: 'connects' },
  },
  // CERT-CHAIN-REQUIRED
  {
    id: 'cert.chain-required.missing',
    title: 'validate: true, allow_self_signed: false and no cert_chain: does not connect, says why (a configuration error at start-up, or untrusted at the handshake)',
    requirements: ['CERT-CHAIN-REQUIRED'],
    endpoint: { cert: 'leaf-valid' },
    ems: { certificates: { validate: true, allow_self_signed: false } },
    // REQUIREMENTS.md: either holds (the C SDK 2.2.1 does the latter); a connection does not.
    expect: { anyOf: [{ outcome: 'refuses', class: 'config-error' }, { outcome: 'refuses', class: 'untrusted-cert' }] },
  },
  {
    id: 'cert.chain-required.unreadable',
    title: 'cert_chain naming a file that does not exist: does not connect, names the file',
    requirements: ['CERT-CHAIN-REQUIRED'],
    endpoint: { cert: 'leaf-valid' },
    ems: { certificates: { ...VALIDATING, cert_chain: { missing: 'no-such-ca.pem' } } },
    expect: { outcome: 'refuses', class: 'config-error' },
  },
  // CERT-HOST
  {
    id: 'cert.host.mismatch',
    title: 'Platform certificate for another host: refused as hostname mismatch (connects on builds without the check)',
    requirements: ['CERT-HOST'],
    endpoint: { cert: 'leaf-wrong-host' },
    ems: { certificates: VALIDATING },
    expect: { outcome: 'refuses', class: 'hostname-mismatch' },
    variants: [{ when: { lacks: ['hostname-check'] }, expect: { outcome: 'connects' } }],
  },
  {
    id: 'cert.host.check-disabled',
    title: 'disable_hostname_validation: true connects to a certificate for another host',
    requirements: ['CERT-HOST'],
    endpoint: { cert: 'leaf-wrong-host' },
    ems: { certificates: { ...VALIDATING, disable_hostname_validation: true } },
    expect: { outcome: 'connects' },
  },
  {
    // The switch turns off the host-name check only: a client that sets SSL_VERIFY_NONE for it is caught here.
    id: 'cert.host.check-disabled-still-validates',
    title: 'disable_hostname_validation: true still validates the chain: an untrusted platform is refused',
    requirements: ['CERT-HOST', 'CERT-VALIDATE'],
    endpoint: { cert: 'leaf-untrusted' },
    ems: { certificates: { ...VALIDATING, disable_hostname_validation: true } },
    expect: { outcome: 'refuses', class: 'untrusted-cert' },
  },
  {
    id: 'cert.host.ip-san',
    title: 'ws_servers host given as 127.0.0.1 matches the certificate IP SAN: connects',
    requirements: ['CERT-HOST'],
    host: '127.0.0.1',
    endpoint: { cert: 'leaf-valid' },
    ems: { certificates: VALIDATING },
    expect: { outcome: 'connects' },
    needs: ['loopback-platform'],
  },
  // CERT-PATHS
  ...(['windows-escaped', 'windows-forward'] as const).map((paths) => ({
    id: `cert.paths.${paths}`,
    title: `Certificate paths written in the ${paths} form load the same files: connects`,
    requirements: ['CERT-PATHS' as const],
    paths,
    needs: ['windows-paths'],
    endpoint: { cert: 'leaf-valid' },
    ems: { certificates: VALIDATING },
    expect: { outcome: 'connects' as const },
  })),
  {
    // Every path of the group in the escaped form, not only cert_chain's: the client certificate and its key too.
    id: 'cert.paths.windows-escaped.client-key',
    title: 'client_cert and key_file written in the windows-escaped form, the platform requiring the certificate: connects with mutual TLS',
    requirements: ['CERT-PATHS', 'CERT-CLIENT'],
    paths: 'windows-escaped',
    needs: ['windows-paths'],
    endpoint: { cert: 'leaf-valid', clientAuth: { require: true, trust: 'client-ca' } },
    ems: { certificates: { ...VALIDATING, client_cert: { cert: 'client-valid' }, key_file: { key: 'client-valid' } } },
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.paths.posix',
    title: 'Certificate paths with forward slashes on Linux: connects',
    requirements: ['CERT-PATHS'],
    paths: 'posix',
    needs: ['posix-paths'],
    endpoint: { cert: 'leaf-valid' },
    ems: { certificates: VALIDATING },
    expect: { outcome: 'connects' },
  },
]);
