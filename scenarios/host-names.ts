import { family } from '../harness/scenario/model.ts';
import { VALIDATING } from './lib/common.ts';

// CERT-HOST beyond the plain mismatch: how a name in the certificate matches ws_servers[].host
// (RFC 6125 for names; RFC 2818 3.1 for addresses). Every refusal here is a hostname mismatch, and
// a build without the check (C SDK 2.2.1) connects instead. Names under conformance.test resolve to
// the endpoints only on targets with `conformance-names` (harness/scenario/capabilities.ts). A
// scenario without `host` holds on any platform host (the leaves name localhost and
// platform.conformance.test); one that needs a particular name gives it.

const NO_CHECK = [{ when: { lacks: ['hostname-check'] }, expect: { outcome: 'connects' as const } }];
const MISMATCH = { outcome: 'refuses', class: 'hostname-mismatch' } as const;
const NAMES = ['conformance-names'];
// 127.0.0.1 or localhost given as the host: the EMS must reach the endpoints on its loopback.
const LOOPBACK = ['loopback-platform'];

export default family('host-names', { requirements: ['CERT-HOST'], ems: { certificates: VALIDATING } }, [
  // --- wildcards: "*" stands for exactly one whole left-most label -----------------------------
  {
    id: 'cert.host.wildcard-one-label',
    title: '*.conformance.test presented, host platform.conformance.test (one label): connects',
    endpoint: { cert: 'leaf-wildcard' },
    host: 'platform.conformance.test',
    needs: NAMES,
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.host.wildcard-two-labels',
    title: '*.conformance.test presented, host sub.platform.conformance.test (two labels): refused as hostname mismatch',
    endpoint: { cert: 'leaf-wildcard' },
    host: 'sub.platform.conformance.test',
    needs: NAMES,
    expect: MISMATCH,
    variants: NO_CHECK,
  },
  {
    id: 'cert.host.wildcard-bare-domain',
    title: '*.conformance.test presented, host conformance.test (no label for the *): refused as hostname mismatch',
    endpoint: { cert: 'leaf-wildcard' },
    host: 'conformance.test',
    needs: NAMES,
    expect: MISMATCH,
    variants: NO_CHECK,
  },
  {
    // RFC 9525 (like curl and browsers) refuses a partial wildcard; RFC 6125 6.4.3 let a client
    // match one, and OpenSSL 3's X509_check_host still does unless told
    // X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS: accepting it is recorded as weak, not failed.
    id: 'cert.host.wildcard-partial',
    title: 'plat*.conformance.test presented, host platform.conformance.test: refused as hostname mismatch (RFC 9525); a connection is recorded as weak (RFC 6125 6.4.3, OpenSSL 3 default)',
    endpoint: { cert: 'leaf-wildcard-partial' },
    host: 'platform.conformance.test',
    needs: NAMES,
    expect: { anyOf: [MISMATCH, { outcome: 'connects', weak: 'matched a partial wildcard (plat*): RFC 6125 6.4.3 allowed it, RFC 9525 does not' }] },
    variants: NO_CHECK,
  },
  {
    id: 'cert.host.wildcard-partial-no-fit',
    title: 'plat*.conformance.test presented, host other.conformance.test (the fixed part differs): refused as hostname mismatch',
    endpoint: { cert: 'leaf-wildcard-partial' },
    host: 'other.conformance.test',
    needs: NAMES,
    expect: MISMATCH,
    variants: NO_CHECK,
  },
  {
    id: 'cert.host.wildcard-public-suffix',
    title: '*.test presented (a wildcard over a top-level domain), host conformance.test: refused as hostname mismatch',
    endpoint: { cert: 'leaf-wildcard-tld' },
    host: 'conformance.test',
    needs: NAMES,
    expect: MISMATCH,
    variants: NO_CHECK,
  },
  {
    id: 'cert.host.wildcard-not-leftmost',
    title: 'platform.*.test presented (the * not in the left-most label), host platform.conformance.test: refused as hostname mismatch',
    endpoint: { cert: 'leaf-wildcard-inner' },
    host: 'platform.conformance.test',
    needs: NAMES,
    expect: MISMATCH,
    variants: NO_CHECK,
  },
  // --- CN and SAN: with a DNS SAN present the CN is not a reference (RFC 6125 6.4.4) -------------
  {
    id: 'cert.host.cn-matches-san-not',
    title: 'CN localhost but the only DNS SAN another host: refused as hostname mismatch (the SAN decides)',
    endpoint: { cert: 'leaf-cn-match-san-not' },
    host: 'localhost',
    needs: LOOPBACK,
    expect: MISMATCH,
    variants: NO_CHECK,
  },
  {
    id: 'cert.host.san-matches-cn-not',
    title: 'DNS SANs localhost and platform.conformance.test, CN another host: connects',
    endpoint: { cert: 'leaf-san-match-cn-not' },
    expect: { outcome: 'connects' },
  },
  {
    // REQUIREMENTS.md names the Common Name (or SAN), and RFC 6125 6.4.4 falls back to the CN when
    // there is no DNS SAN; RFC 9525 drops the CN fallback. Either holds.
    id: 'cert.host.cn-only',
    title: 'No SAN at all, CN localhost: connects (REQUIREMENTS: "Common Name (or SAN)"; RFC 6125 6.4.4), or refused as hostname mismatch (RFC 9525: no CN fallback)',
    endpoint: { cert: 'leaf-cn-only' },
    host: 'localhost',
    needs: LOOPBACK,
    expect: { anyOf: [{ outcome: 'connects' }, MISMATCH] },
  },
  {
    id: 'cert.host.case-insensitive',
    title: 'Host given as LOCALHOST, certificate for localhost: connects (DNS names compare without case)',
    endpoint: { cert: 'leaf-valid' },
    host: 'LOCALHOST',
    needs: LOOPBACK,
    expect: { outcome: 'connects' },
  },
  // --- a name matches a DNS SAN, an address an IP SAN (RFC 2818 3.1) ---------------------------
  {
    id: 'cert.host.dns-san-by-name',
    title: 'Only DNS SANs (localhost, platform.conformance.test), host given as a name: connects',
    endpoint: { cert: 'leaf-dns-san-only' },
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.host.dns-san-by-address',
    title: 'Only DNS SANs (localhost, platform.conformance.test), host 127.0.0.1: refused as hostname mismatch (an address needs an IP SAN)',
    endpoint: { cert: 'leaf-dns-san-only' },
    host: '127.0.0.1',
    needs: LOOPBACK,
    expect: MISMATCH,
    variants: NO_CHECK,
  },
  {
    id: 'cert.host.ip-san-by-address',
    title: 'Only IP SAN 127.0.0.1, host 127.0.0.1: connects',
    endpoint: { cert: 'leaf-ip-san-only' },
    host: '127.0.0.1',
    needs: LOOPBACK,
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.host.ip-san-by-name',
    title: 'Only IP SAN 127.0.0.1, host given as a name: refused as hostname mismatch (a name needs a DNS SAN)',
    endpoint: { cert: 'leaf-ip-san-only' },
    expect: MISMATCH,
    variants: NO_CHECK,
  },
  {
    id: 'cert.host.address-in-dns-san',
    title: 'DNS SAN and CN "127.0.0.1" (an address written as a name), host 127.0.0.1: refused as hostname mismatch',
    endpoint: { cert: 'leaf-ip-in-dns-san' },
    host: '127.0.0.1',
    needs: LOOPBACK,
    expect: MISMATCH,
    variants: NO_CHECK,
  },
  // --- subjects without a CN, and very many SANs --------------------------------------------
  {
    id: 'cert.host.no-cn',
    title: 'Subject without CN, the platform names in the SAN: connects',
    endpoint: { cert: 'leaf-no-cn' },
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.host.empty-subject',
    title: 'Empty subject, the platform names in a critical SAN: connects',
    endpoint: { cert: 'leaf-empty-subject' },
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.host.1000-sans',
    title: '1000 DNS SANs, only the last two the platform names: connects',
    endpoint: { cert: 'leaf-1000-sans' },
    expect: { outcome: 'connects' },
  },
]);
