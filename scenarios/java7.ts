import { family } from '../harness/scenario/model.ts';
import { RECOMMENDED } from './lib/cipher-sets.ts';
import { VALIDATING } from './lib/common.ts';

// JAVA7-EDH: a platform on Java 7 (real JSSE, harness/endpoints/jsse) offers ephemeral DH first,
// with Java 7's 768-bit group, which OpenSSL clients refuse; `!kEDH` steers the EMS to RSA key
// exchange instead. axTLS builds offer no DHE at all and connect either way.

const JAVA7 = { kind: 'jsse-java7', cert: 'leaf-valid' } as const;
/** The Java 7 server's suites without ephemeral DH (OpenSSL names). */
const NOT_DHE = ['AES128-SHA', 'AES128-SHA256', 'DES-CBC3-SHA'];
const AXTLS_CONNECTS = { when: { flavour: 'axtls' as const }, expect: { outcome: 'connects' as const, cipherIn: ['AES128-SHA'] } };
/** A build that accepts 768-bit DH (OpenSSL before 1.1.0 refused only smaller groups) negotiates DHE. */
const SMALL_DH_ACCEPTED = ['dh-min-bits:768', 'dh-min-bits:512'].map((cap) => ({
  when: { has: [cap] }, expect: { outcome: 'connects' as const, cipherIn: ['DHE-RSA-AES128-SHA', 'DHE-RSA-AES128-SHA256'] },
}));

export default family('java7', { endpoint: JAVA7, ems: { certificates: VALIDATING } }, [
  {
    id: 'java7.default-list',
    title: 'cipher_suite left out (the recommended list) against a Java 7 platform: refused, dh key too small',
    requirements: ['JAVA7-EDH', 'CIPHER-RECOMMENDED'],
    expect: { outcome: 'refuses', class: 'dh-too-small' },
    variants: [AXTLS_CONNECTS, ...SMALL_DH_ACCEPTED],
  },
  {
    id: 'java7.recommended-list',
    title: 'The recommended list set explicitly against a Java 7 platform: refused, dh key too small',
    requirements: ['JAVA7-EDH'],
    ems: { certificates: { cipher_suite: RECOMMENDED } },
    expect: { outcome: 'refuses', class: 'dh-too-small' },
    variants: [AXTLS_CONNECTS, ...SMALL_DH_ACCEPTED],
  },
  {
    id: 'java7.recommended-no-kedh',
    title: 'The recommended list plus !kEDH against a Java 7 platform: connects with RSA key exchange',
    requirements: ['JAVA7-EDH', 'CIPHER-LIST'],
    ems: { certificates: { cipher_suite: `${RECOMMENDED}:!kEDH` } },
    expect: { outcome: 'connects', cipherIn: NOT_DHE },
    variants: [AXTLS_CONNECTS],
  },
  {
    id: 'java7.later-update-dh1024',
    title: 'A later Java 7 update (1024-bit ephemeral DH) with the recommended list: connects with DHE where 1024 bits are accepted',
    requirements: ['JAVA7-EDH'],
    endpoint: { dhBits: 1024 },
    expect: { outcome: 'connects', cipherIn: ['DHE-RSA-AES128-SHA', 'DHE-RSA-AES128-SHA256'] },
    variants: [AXTLS_CONNECTS, { when: { has: ['dh-min-bits:2048'] }, expect: { outcome: 'refuses', class: 'dh-too-small' } }],
  },
]);
