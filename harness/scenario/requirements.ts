// The requirement catalogue of ../shared/REQUIREMENTS.md as data: IDs are stable, never renumbered.

export const REQUIREMENTS = {
  'CERT-VALIDATE': { family: 'certificates', promise: '`validate: true` validates the platform certificate; `false` connects without validating.' },
  'CERT-SELFSIGNED': { family: 'certificates', promise: '`allow_self_signed: false` refuses a self-signed platform certificate; `true` accepts one.' },
  'CERT-CHAIN': { family: 'certificates', promise: '`cert_chain` names one CA-list file; every CA in it is loaded; a certificate not chaining to it is refused.' },
  'CERT-CHAIN-REQUIRED': { family: 'certificates', promise: '`validate: true` with `allow_self_signed: false` needs `cert_chain`; without it the EMS does not connect and says why.' },
  'CERT-HOST': { family: 'certificates', promise: 'The platform certificate CN/SAN must match `ws_servers[].host` (unless `disable_hostname_validation`).' },
  'CERT-CLIENT': { family: 'client-certificates', promise: '`client_cert` + `key_file` present a client certificate the platform can require and verify.' },
  'CERT-KEYFORMAT': { family: 'client-certificates', promise: '`key_file` may be .pem, .p8 or .p12; encrypted ones open with `key_passphrase`; a wrong one fails clearly.' },
  'CERT-CRITERIA': { family: 'criteria', promise: '`validation_criteria` compares subject/issuer CN, O, OU exactly; configured fields that differ refuse, unset fields are not checked.' },
  'CERT-PATHS': { family: 'certificates', promise: 'Paths use `/` on Linux; on Windows escaped backslashes or forward slashes load the same file.' },
  'SECRET-ENCRYPT': { family: 'secrets', promise: '`wsems -encrypt` output, pasted in place of a clear app key or passphrase, works the same; it neither contains the clear value nor gives it back by a plain decoding.' },
  'SECRET-NOLOG': { family: 'secrets', promise: 'The EMS never writes a clear app key, password or passphrase (nor a plain encoding of one) to its log or console.' },
  'CIPHER-LIST': { family: 'ciphers', promise: '`cipher_suite` is an OpenSSL cipher list; only allowed suites are offered and negotiated.' },
  'CIPHER-RECOMMENDED': { family: 'ciphers', promise: 'The recommended list never negotiates anonymous, null, low, export, 3DES, MD5, PSK, DSS, RC4, SEED, IDEA or SRP suites.' },
  'CIPHER-AXTLS': { family: 'ciphers', promise: 'axTLS builds ignore `cipher_suite`; only OpenSSL builds honour it.' },
  'JAVA7-EDH': { family: 'java7', promise: 'Against a Java 7 platform, a list without `!kEDH` fails the key exchange; with `!kEDH` it connects.' },
  'FIPS-SWITCH': { family: 'fips', promise: '`fips.enabled: true` turns FIPS mode on at start-up; `false` or no group leaves it off.' },
  'FIPS-ALGOS': { family: 'fips', promise: 'In FIPS mode only FIPS-approved algorithms are negotiated; a platform offering only others is refused.' },
  'FIPS-BUILD': { family: 'fips', promise: 'FIPS mode needs an OpenSSL build; a build without it refuses to start in FIPS mode.' },
  'BASE-EXPIRED': { family: 'baseline', promise: 'A validating EMS refuses an expired leaf or intermediate.' },
  'BASE-NOTYET': { family: 'baseline', promise: 'A validating EMS refuses a certificate not valid yet.' },
  'BASE-UNTRUSTED': { family: 'baseline', promise: 'A validating EMS refuses a chain to a root not in `cert_chain`.' },
  'BASE-INCOMPLETE': { family: 'baseline', promise: 'A validating EMS refuses a leaf served without the intermediate it needs.' },
  'BASE-EKU': { family: 'baseline', promise: 'A validating EMS refuses a leaf whose EKU excludes serverAuth.' },
  'BASE-CA-FLAGS': { family: 'baseline', promise: 'A validating EMS refuses an intermediate without basicConstraints CA:TRUE.' },
  'BASE-WEAKSIG': { family: 'baseline', promise: 'A chain signed with MD5 or SHA-1 (policy: the target behaviour is recorded).' },
  'BASE-WEAKKEY': { family: 'baseline', promise: 'A validating EMS refuses an RSA key under 2048 bits.' },
  'BASE-PROTOCOL': { family: 'baseline', promise: 'Only TLS 1.0/1.1 offered (policy; recorded per target profile).' },
  'BASE-SANITY': { family: 'baseline', promise: 'Connects to the sanity endpoint (valid chain, matching host, TLS 1.2 and 1.3).' },
  'LSR-TLS': { family: 'local-server', promise: '`http_server.ssl: true` serves TLS only, with `certificate` (leaf and intermediates, in order) and `private_key` opened with `passphrase` (clear or encrypted); a wrong passphrase or a key that does not match fails at start-up. `ssl: false` serves plain HTTP.' },
  'LSR-AUTH': { family: 'local-server', promise: '`http_server.authenticate: true` answers 401 without or with wrong basic credentials and serves the configured `user`/`password` (clear or encrypted); `false` serves anyone.' },
  'LSR-HOST': { family: 'local-server', promise: '`http_server.host` decides where it listens: `localhost` on the IPv6 loopback, `127.0.0.1` on IPv4 loopback, never on another address unless one is configured.' },
  'LSR-WARN': { family: 'local-server', promise: 'The EMS logs a warning when `ssl` or `authenticate` is off, when `validate` is off, or when `allow_self_signed` is on.' },
} as const;

export type RequirementId = keyof typeof REQUIREMENTS;
export const REQUIREMENT_IDS = Object.keys(REQUIREMENTS) as [RequirementId, ...RequirementId[]];

/**
 * Failure classes a refusal is attributed to (REQUIREMENTS.md). `auth-rejected` is the harness's
 * addition: the platform answered AUTH with 0x81 (e.g. an app key the EMS failed to decrypt).
 */
export const FAILURE_CLASSES = [
  'untrusted-cert', 'self-signed', 'expired', 'hostname-mismatch', 'criteria-mismatch',
  'no-shared-cipher', 'dh-too-small', 'protocol-version', 'client-cert-required',
  'client-cert-rejected', 'key-load-error', 'config-error', 'fips-violation', 'fips-unavailable',
  'auth-rejected',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];
