import { family } from '../harness/scenario/model.ts';
import { VALIDATING } from './lib/common.ts';

// What validating the platform certificate takes beyond the baseline (the anchors' catalogues:
// BetterTLS, x509-limbo, badssl): other key types and sizes, path-length and name constraints,
// critical extensions, a version 1 certificate as a CA. Each refusal has a valid twin that connects.

const UNTRUSTED = { outcome: 'refuses', class: 'untrusted-cert' } as const;
// axTLS has no elliptic-curve support: its RSA-key-exchange suites cannot use an ECDSA certificate.
const AXTLS_NO_ECDSA = [{ when: { flavour: 'axtls' as const }, expect: { outcome: 'refuses' as const, class: 'no-shared-cipher' as const } }];
const EC_ROOT = { certificates: { ...VALIDATING, cert_chain: { file: 'chain-ec-root.pem' } } };

export default family('x509', { ems: { certificates: VALIDATING } }, [
  // --- key types and sizes --------------------------------------------------------------------
  ...(['p256', 'p384'] as const).map((curve) => ({
    id: `x509.ecdsa-${curve}`,
    title: `ECDSA ${curve.toUpperCase()} leaf under an ECDSA intermediate and root (in cert_chain): connects`,
    requirements: ['CERT-VALIDATE' as const, 'CERT-CHAIN' as const],
    endpoint: { cert: `leaf-ecdsa-${curve}` },
    ems: EC_ROOT,
    expect: { outcome: 'connects' as const },
    variants: AXTLS_NO_ECDSA,
  })),
  ...(['p256', 'p384'] as const).map((curve) => ({
    id: `x509.ecdsa-${curve}-rsa-root`,
    title: `ECDSA ${curve.toUpperCase()} leaf issued by the RSA platform PKI (badssl ecc${curve.slice(1)}): connects`,
    requirements: ['CERT-VALIDATE' as const],
    endpoint: { cert: `leaf-ecdsa-${curve}-rsa-chain` },
    expect: { outcome: 'connects' as const },
    variants: AXTLS_NO_ECDSA,
  })),
  {
    id: 'x509.ecdsa-untrusted',
    title: 'ECDSA chain whose root is not in cert_chain (the RSA root only): refused as untrusted',
    requirements: ['BASE-UNTRUSTED'],
    endpoint: { cert: 'leaf-ecdsa-p256' },
    expect: UNTRUSTED,
    variants: AXTLS_NO_ECDSA,
  },
  ...(['4096', '8192'] as const).map((bits) => ({
    id: `x509.rsa${bits}-leaf`,
    title: `Leaf with an RSA-${bits} key: connects (slow handshakes on gateway CPUs)`,
    requirements: ['CERT-VALIDATE' as const],
    endpoint: { cert: `leaf-rsa${bits}` },
    expect: { outcome: 'connects' as const },
  })),
  // --- constraints on the CAs ----------------------------------------------------------------
  {
    id: 'x509.pathlen-violated',
    title: 'Intermediate with pathLenConstraint 0 over another CA: refused as untrusted',
    requirements: ['BASE-CA-FLAGS'],
    endpoint: { cert: 'leaf-pathlen-violated' },
    expect: UNTRUSTED,
  },
  {
    id: 'x509.pathlen-zero-leaf',
    title: 'Intermediate with pathLenConstraint 0 issuing the leaf directly: connects',
    requirements: ['BASE-CA-FLAGS'],
    endpoint: { cert: 'leaf-pathlen-ok' },
    expect: { outcome: 'connects' },
  },
  {
    id: 'x509.v1-intermediate',
    title: 'Version 1 certificate (no basicConstraints) used as the intermediate CA: refused as untrusted',
    requirements: ['BASE-CA-FLAGS'],
    endpoint: { cert: 'leaf-under-v1-ca' },
    expect: UNTRUSTED,
  },
  {
    id: 'x509.name-constraints-permitted',
    title: 'Intermediate permitting localhost, conformance.test and 127.0.0.0/8, leaf within them: connects',
    requirements: ['CERT-VALIDATE'],
    endpoint: { cert: 'leaf-nc-permitted-ok' },
    expect: { outcome: 'connects' },
  },
  {
    id: 'x509.name-constraints-permitted-violated',
    title: 'Intermediate permitting localhost, conformance.test and 127.0.0.0/8, leaf also naming platform.invalid: refused as untrusted',
    requirements: ['CERT-VALIDATE'],
    endpoint: { cert: 'leaf-nc-permitted-violated' },
    expect: UNTRUSTED,
  },
  {
    id: 'x509.name-constraints-excluded-violated',
    title: 'Intermediate excluding platform.invalid, leaf naming it beside localhost: refused as untrusted',
    requirements: ['CERT-VALIDATE'],
    endpoint: { cert: 'leaf-nc-excluded-violated' },
    expect: UNTRUSTED,
  },
  // --- extensions -------------------------------------------------------------------------------
  {
    id: 'x509.unknown-critical-extension',
    title: 'Leaf with an unknown extension marked critical: refused as untrusted (RFC 5280 4.2)',
    requirements: ['CERT-VALIDATE'],
    endpoint: { cert: 'leaf-critical-unknown-ext' },
    expect: UNTRUSTED,
  },
  {
    id: 'x509.unknown-noncritical-extension',
    title: 'Leaf with the same unknown extension not critical: connects',
    requirements: ['CERT-VALIDATE'],
    endpoint: { cert: 'leaf-noncritical-unknown-ext' },
    expect: { outcome: 'connects' },
  },
]);
