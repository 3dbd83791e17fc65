// Shared config fragments for the scenario families (data, not behaviour).

/** A validating EMS trusting the conformance root: the vendor's production recommendation. */
export const VALIDATING = { validate: true, allow_self_signed: false, cert_chain: { file: 'chain-root.pem' } } as const;

/** The leaf-valid certificate's fields as the criteria scenarios expect them (certs/recipes.yaml). */
export const LEAF_VALID_FIELDS = {
  Cert_Common_Name: 'localhost',
  Cert_Organization: 'Conformance Lab',
  Cert_Organizational_Name: 'Platform',
  CA_Cert_Common_Name: 'Conformance Intermediate CA',
  CA_Cert_Organization: 'Conformance Lab',
  CA_Cert_Organizational_Name: 'Platform Issuing',
} as const;
