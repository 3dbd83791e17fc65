import { isIP } from 'node:net';
import type { DetailedPeerCertificate } from 'node:tls';
import { defect } from './defects.ts';

// The host-name check as a hand-written client does it, with the mistakes of the CERT-HOST
// defects (defects.ts) one switch each. Only a defective run comes here: a correct one uses
// OpenSSL's check (Node's checkServerIdentity, as X509_check_host would).

/** The first this many SANs only, with san-list-truncated (a fixed-size array). */
const SAN_ARRAY = 100;

/** Whether `host` matches the certificate, with the active defect's mistake. */
export function defectiveHostMatch(host: string, peer: DetailedPeerCertificate): boolean {
  const entries = (peer.subjectaltname ?? '').split(', ').filter(Boolean).slice(0, defect('san-list-truncated') ? SAN_ARRAY : undefined);
  const dns = entries.filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4));
  const ips = defect('host-ip-san-ignored') ? [] : entries.filter((e) => e.startsWith('IP Address:')).map((e) => e.slice(11));
  const cnValue = peer.subject?.CN;
  const cn = Array.isArray(cnValue) ? cnValue[0] : cnValue;
  if (isIP(host) && ips.includes(host) && !defect('host-cn-only')) return true;
  if (isIP(host) && !defect('host-ip-as-dns') && !defect('host-cn-only')) return false;
  if (defect('host-cn-only')) return cn !== undefined && nameMatches(host, cn);
  // RFC 6125 6.4.4: the CN is a reference only without DNS SANs (host-cn-fallback-always: always).
  const names = dns.length === 0 || defect('host-cn-fallback-always') ? [...dns, ...(cn ? [cn] : [])] : dns;
  return names.some((name) => nameMatches(host, name));
}

function nameMatches(host: string, name: string): boolean {
  const [h, n] = defect('host-case-sensitive') ? [host, name] : [host.toLowerCase(), name.toLowerCase()];
  if (!n.includes('*')) return h === n;
  const labels = n.split('.');
  const star = labels.findIndex((l) => l.includes('*'));
  if (star > 0 && !defect('host-wildcard-any-label')) return false;
  if (star === 0 && labels.length < 3 && !defect('host-wildcard-over-tld')) return false; // *.test: a wildcard over a top-level domain
  const hostLabels = h.split('.');
  const suffix = labels.slice(star + 1).join('.');
  if (defect('host-wildcard-matches-bare') && h === suffix) return true;
  const [before, after] = splitAround(labels[star]!);
  const fits = (label: string) => label.length >= before.length + after.length && label.startsWith(before) && label.endsWith(after);
  if (defect('host-wildcard-any-depth')) {
    const head = h.slice(0, Math.max(0, h.length - suffix.length - 1));
    return h.endsWith(`.${suffix}`) && head.length > 0 && labels.slice(0, star).every((l, i) => l === hostLabels[i]) && fits(head.split('.').at(-1)!);
  }
  if (hostLabels.length !== labels.length) return false;
  if (!labels.every((l, i) => i === star || l === hostLabels[i])) return false;
  return defect('host-partial-wildcard-any') ? true : fits(hostLabels[star]!);
}

/** `plat*` → ['plat', ''], `*` → ['', '']. */
function splitAround(label: string): [string, string] {
  const at = label.indexOf('*');
  return [label.slice(0, at), label.slice(at + 1)];
}

const HOST_DEFECTS = [
  'san-list-truncated', 'host-ip-san-ignored', 'host-ip-as-dns', 'host-cn-only', 'host-cn-fallback-always', 'host-case-sensitive',
  'host-wildcard-any-label', 'host-wildcard-over-tld', 'host-wildcard-matches-bare', 'host-wildcard-any-depth', 'host-partial-wildcard-any',
] as const;

/** Whether the armed defect is one of the host-name check's (then defectiveHostMatch decides). */
export function hostDefectActive(): boolean {
  return HOST_DEFECTS.some(defect);
}
