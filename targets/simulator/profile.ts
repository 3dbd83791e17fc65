// Which EMS build the simulator plays (WSEMS_SIM_PROFILE), beside the TLS library it links
// (WSEMS_SIM_FLAVOUR). `default` is the simulator as the vendor documents the EMS, plus the later
// releases' hostname check. `csdk-2.2.1` is the open C SDK 2.2.1 built against OpenSSL 3.0 as a
// wsems-compatible executable, reproducing what EMS-FACTS.md "Measured on the open C SDK 2.2.1"
// records of it, where it differs from the default:

export type ProfileName = 'default' | 'csdk-2.2.1';

export interface SdkProfile {
  name: ProfileName;
  /** twTlsClient_Create(host, int16_t port, …): a port above 32767 wraps negative and is never reached (Err = 111). */
  int16Port: boolean;
  /** key_file goes to SSL_CTX_use_PrivateKey_file(…, PEM): `.p8` (DER) and `.p12` fail to load. */
  pemOnlyKeys: boolean;
  /**
   * Failures in the SDK's own words only (TW_USE_KEY_FILE, TW_SET_CLIENT_CA_LIST, twWs_Connect: Error
   * restarting socket, the TLS 1.3 read-error rounds, the masked upgrade request at TRACE) instead of
   * the default simulator's explanatory `wsems: …` lines.
   */
  sdkLines: boolean;
  /** validate with allow_self_signed false and no cert_chain stops at start-up (else: connects, refused with code 20). */
  requireCertChain: boolean;
  /** A validation_criteria field the certificate lacks is compared against an uninitialised buffer (else: "(null)"). */
  uninitialisedAbsentField: boolean;
  /** A WebSocket ping straight after connecting; no pong in time drops the connection. */
  keepAlivePing: boolean;
  /** The build has a FIPS module; without one, fips.enabled makes twApi_EnableFipsMode return 1012. */
  fipsModule: boolean;
}

const DEFAULT: SdkProfile = {
  name: 'default',
  int16Port: false,
  pemOnlyKeys: false,
  sdkLines: false,
  requireCertChain: true,
  uninitialisedAbsentField: false,
  keepAlivePing: false,
  fipsModule: true,
};

const CSDK_221: SdkProfile = {
  name: 'csdk-2.2.1',
  int16Port: true,
  pemOnlyKeys: true,
  sdkLines: true,
  requireCertChain: false,
  uninitialisedAbsentField: true,
  keepAlivePing: true,
  fipsModule: false, // OpenSSL 3.0 without a FIPS provider: FIPS_mode_set is not there to call
};

export const PROFILES: Record<ProfileName, SdkProfile> = { default: DEFAULT, 'csdk-2.2.1': CSDK_221 };

export function isProfileName(value: string): value is ProfileName {
  return value in PROFILES;
}
