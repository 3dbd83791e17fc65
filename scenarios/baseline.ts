import { family } from '../harness/scenario/model.ts';
import { VALIDATING } from './lib/common.ts';

// What any certificate-validating client must refuse (REQUIREMENTS.md "A secure client"), and
// the sanity endpoint every target must reach before anything else is judged. The weak variants
// (BASE-WEAKSIG, -WEAKKEY, -PROTOCOL) are recorded policies: refused holds, accepted is weak
// (amber, with the evidence), whatever the target's profile declares.

/** Refused as `refusal` holds; a connection is recorded as weak, for `what`. */
function refusedOrWeak(refusal: 'untrusted-cert' | 'protocol-version', what: string, protocolIn?: string[]) {
  return { anyOf: [{ outcome: 'refuses' as const, class: refusal }, { outcome: 'connects' as const, weak: what, ...(protocolIn ? { protocolIn } : {}) }] };
}

export default family('baseline', { ems: { certificates: VALIDATING } }, [
  {
    id: 'baseline.sanity',
    title: 'Valid chain, matching host, TLS 1.2 and 1.3 offered: connects',
    requirements: ['BASE-SANITY'],
    endpoint: { cert: 'leaf-valid' },
    expect: { outcome: 'connects' },
  },
  {
    id: 'baseline.sanity-tls12',
    title: 'Valid chain over TLS 1.2 only: connects with TLS 1.2',
    requirements: ['BASE-SANITY'],
    endpoint: { cert: 'leaf-valid', maxVersion: 'TLSv1.2' },
    expect: { outcome: 'connects', protocolIn: ['TLSv1.2'] },
  },
  {
    id: 'baseline.expired-leaf',
    title: 'Expired leaf: refused as expired',
    requirements: ['BASE-EXPIRED', 'CERT-VALIDATE'],
    endpoint: { cert: 'leaf-expired' },
    expect: { outcome: 'refuses', class: 'expired' },
  },
  {
    id: 'baseline.expired-intermediate',
    title: 'Valid leaf under an expired intermediate: refused as expired',
    requirements: ['BASE-EXPIRED'],
    endpoint: { cert: 'leaf-under-expired-intermediate' },
    expect: { outcome: 'refuses', class: 'expired' },
  },
  {
    id: 'baseline.not-yet-valid',
    title: 'Leaf not valid yet: refused (validity period)',
    requirements: ['BASE-NOTYET'],
    endpoint: { cert: 'leaf-not-yet-valid' },
    expect: { outcome: 'refuses', class: 'expired' },
  },
  {
    id: 'baseline.untrusted-root',
    title: 'Chain to a root not in cert_chain: refused as untrusted',
    requirements: ['BASE-UNTRUSTED', 'CERT-VALIDATE'],
    endpoint: { cert: 'leaf-untrusted' },
    expect: { outcome: 'refuses', class: 'untrusted-cert' },
  },
  {
    id: 'baseline.incomplete-chain',
    title: 'Leaf sent without its intermediate: refused as untrusted',
    requirements: ['BASE-INCOMPLETE'],
    endpoint: { cert: 'leaf-valid', chain: [] },
    expect: { outcome: 'refuses', class: 'untrusted-cert' },
  },
  {
    id: 'baseline.eku-client-only',
    title: 'Leaf whose EKU is clientAuth only: refused as untrusted',
    requirements: ['BASE-EKU'],
    endpoint: { cert: 'leaf-eku-client-only' },
    expect: { outcome: 'refuses', class: 'untrusted-cert' },
  },
  {
    id: 'baseline.intermediate-not-ca',
    title: 'Intermediate without basicConstraints CA:TRUE: refused as untrusted',
    requirements: ['BASE-CA-FLAGS'],
    endpoint: { cert: 'leaf-under-non-ca' },
    expect: { outcome: 'refuses', class: 'untrusted-cert' },
  },
  {
    id: 'baseline.sha1-leaf',
    title: 'Leaf signed with SHA-1: refused as untrusted; accepted is recorded as weak',
    requirements: ['BASE-WEAKSIG'],
    endpoint: { cert: 'leaf-sha1' },
    expect: refusedOrWeak('untrusted-cert', 'accepted a platform certificate signed with SHA-1 (BASE-WEAKSIG)'),
  },
  {
    id: 'baseline.md5-leaf',
    title: 'Leaf signed with MD5: refused as untrusted; accepted is recorded as weak',
    requirements: ['BASE-WEAKSIG'],
    endpoint: { cert: 'leaf-md5' },
    expect: refusedOrWeak('untrusted-cert', 'accepted a platform certificate signed with MD5 (BASE-WEAKSIG)'),
  },
  {
    id: 'baseline.rsa1024-leaf',
    title: 'Leaf with an RSA-1024 key: refused as untrusted; accepted is recorded as weak',
    requirements: ['BASE-WEAKKEY'],
    endpoint: { cert: 'leaf-rsa1024' },
    expect: refusedOrWeak('untrusted-cert', 'accepted a platform certificate with an RSA-1024 key (BASE-WEAKKEY)'),
  },
  {
    id: 'baseline.tls10-only',
    title: 'Platform offering only TLS 1.0: refused (protocol version); a TLS 1.0 connection is recorded as weak',
    requirements: ['BASE-PROTOCOL'],
    endpoint: { cert: 'leaf-valid', minVersion: 'TLSv1', maxVersion: 'TLSv1' },
    expect: refusedOrWeak('protocol-version', 'completed a TLS 1.0 handshake (BASE-PROTOCOL)', ['TLSv1']),
  },
  {
    id: 'baseline.tls11-only',
    title: 'Platform offering only TLS 1.1: refused (protocol version); a TLS 1.1 connection is recorded as weak',
    requirements: ['BASE-PROTOCOL'],
    endpoint: { cert: 'leaf-valid', minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' },
    expect: refusedOrWeak('protocol-version', 'completed a TLS 1.1 handshake (BASE-PROTOCOL)', ['TLSv1.1']),
  },
]);
