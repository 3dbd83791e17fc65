// The PKI catalogue's public face. certs/recipes.yaml is the data; build.ts turns it into an
// ignored store (certs/store/) with catalogue.json describing what was made.

export interface DistinguishedName {
  CN?: string;
  O?: string;
  OU?: string;
}

export interface CertRecord {
  name: string;
  /** PEM file holding this certificate alone. */
  certFile: string;
  /** Unencrypted PEM private key of this certificate. */
  keyFile: string;
  /** Catalogue names of the certificates a server sends after this one (from the recipe). */
  serveWith: string[];
  subject: DistinguishedName;
  issuer: DistinguishedName;
  notBefore: string; // ISO
  notAfter: string; // ISO
  selfSigned: boolean;
  isCA: boolean;
}

export interface Catalogue {
  storeDir: string;
  certs: Record<string, CertRecord>;
  /** Every other named file: CA bundles, encrypted keys (.p8), PKCS#12 (.p12) … name -> absolute path. */
  files: Record<string, string>;
  /** Passphrases and other secrets of the store, by name. Never logged: report/redact uses them. */
  secrets: Record<string, string>;
}
