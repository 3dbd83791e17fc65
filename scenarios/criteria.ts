import { CRITERIA_FIELDS, family } from '../harness/scenario/model.ts';
import { LEAF_VALID_FIELDS, VALIDATING } from './lib/common.ts';

// validation_criteria: exact compare of the platform leaf's subject and issuer CN/O/OU,
// configured fields only.

/** Values near the real one that a compare by "contains", "starts with", case folding or trimming would let through. */
const NEAR_MISSES = {
  prefix: (v: string) => v.slice(0, Math.ceil(v.length / 2)),
  suffix: (v: string) => v.slice(1),
  substring: (v: string) => v.slice(1, -1),
  case: (v: string) => (v === v.toLowerCase() ? v.toUpperCase() : v.toLowerCase()),
  'trailing-space': (v: string) => `${v} `,
} as const;

/** Whitespace variants of one value (Cert_Organization, "Conformance Lab"), beyond the trailing space above. */
const WHITESPACE = {
  'leading-space': ' Conformance Lab',
  'inner-double-space': 'Conformance  Lab',
  'tab': 'Conformance\tLab',
} as const;

export default family('criteria', { endpoint: { cert: 'leaf-valid' }, ems: { certificates: VALIDATING } }, [
  {
    id: 'criteria.all-match',
    title: 'All six fields configured and matching: connects',
    requirements: ['CERT-CRITERIA'],
    ems: { certificates: { validation_criteria: LEAF_VALID_FIELDS } },
    expect: { outcome: 'connects' },
  },
  ...CRITERIA_FIELDS.map((field) => ({
    id: `criteria.mismatch.${field.toLowerCase().replace(/_/g, '-')}`,
    title: `${field} alone differs (the other five match): refused as criteria mismatch`,
    requirements: ['CERT-CRITERIA' as const],
    ems: { certificates: { validation_criteria: { ...LEAF_VALID_FIELDS, [field]: `${LEAF_VALID_FIELDS[field]} (not this)` } } },
    expect: { outcome: 'refuses' as const, class: 'criteria-mismatch' as const },
  })),
  {
    id: 'criteria.case-differs',
    title: 'Cert_Organization differing only in letter case: refused (the compare is exact)',
    requirements: ['CERT-CRITERIA'],
    ems: { certificates: { validation_criteria: { Cert_Organization: LEAF_VALID_FIELDS.Cert_Organization.toUpperCase() } } },
    expect: { outcome: 'refuses', class: 'criteria-mismatch' },
  },
  {
    id: 'criteria.only-cn',
    title: 'Only Cert_Common_Name configured and matching: the unset fields are not checked, connects',
    requirements: ['CERT-CRITERIA'],
    ems: { certificates: { validation_criteria: { Cert_Common_Name: 'localhost' } } },
    expect: { outcome: 'connects' },
  },
  {
    id: 'criteria.only-issuer-o',
    title: 'Only CA_Cert_Organization configured and matching: connects',
    requirements: ['CERT-CRITERIA'],
    ems: { certificates: { validation_criteria: { CA_Cert_Organization: LEAF_VALID_FIELDS.CA_Cert_Organization } } },
    expect: { outcome: 'connects' },
  },
  {
    id: 'criteria.field-absent-in-cert',
    title: 'Cert_Organization configured, the certificate has no O: refused as criteria mismatch',
    requirements: ['CERT-CRITERIA'],
    endpoint: { cert: 'leaf-no-org' },
    ems: { certificates: { validation_criteria: { Cert_Organization: 'Conformance Lab' } } },
    expect: { outcome: 'refuses', class: 'criteria-mismatch' },
  },
  {
    id: 'criteria.field-absent-not-configured',
    title: 'Certificate without O/OU, only its CN configured: connects',
    requirements: ['CERT-CRITERIA'],
    endpoint: { cert: 'leaf-no-org' },
    ems: { certificates: { validation_criteria: { Cert_Common_Name: 'localhost' } } },
    expect: { outcome: 'connects' },
  },
  {
    id: 'criteria.issuer-field-absent',
    title: 'CA_Cert_Organizational_Name configured, the issuer has no OU: refused as criteria mismatch',
    requirements: ['CERT-CRITERIA'],
    endpoint: { cert: 'leaf-bare-issuer' },
    ems: { certificates: { validation_criteria: { CA_Cert_Organizational_Name: 'Platform Issuing' } } },
    expect: { outcome: 'refuses', class: 'criteria-mismatch' },
  },
  ...CRITERIA_FIELDS.flatMap((field) =>
    Object.entries(NEAR_MISSES).map(([kind, near]) => ({
      id: `criteria.near-miss.${field.toLowerCase().replace(/_/g, '-')}.${kind}`,
      title: `${field} configured as "${near(LEAF_VALID_FIELDS[field])}" (${kind} of "${LEAF_VALID_FIELDS[field]}"): refused as criteria mismatch`,
      requirements: ['CERT-CRITERIA' as const],
      ems: { certificates: { validation_criteria: { [field]: near(LEAF_VALID_FIELDS[field]) } } },
      expect: { outcome: 'refuses' as const, class: 'criteria-mismatch' as const },
    })),
  ),
  ...Object.entries(WHITESPACE).map(([kind, value]) => ({
    id: `criteria.near-miss.cert-organization.${kind}`,
    title: `Cert_Organization configured as ${JSON.stringify(value)}: refused as criteria mismatch (no whitespace folding)`,
    requirements: ['CERT-CRITERIA' as const],
    ems: { certificates: { validation_criteria: { Cert_Organization: value } } },
    expect: { outcome: 'refuses' as const, class: 'criteria-mismatch' as const },
  })),
  {
    id: 'criteria.cn-absent-in-cert',
    title: 'Cert_Common_Name configured, the certificate has no CN (SAN only): refused as criteria mismatch',
    requirements: ['CERT-CRITERIA'],
    endpoint: { cert: 'leaf-no-cn' },
    ems: { certificates: { validation_criteria: { Cert_Common_Name: 'localhost' } } },
    expect: { outcome: 'refuses', class: 'criteria-mismatch' },
  },
  {
    id: 'criteria.empty-subject',
    title: 'Cert_Common_Name configured, the certificate has an empty subject: refused as criteria mismatch',
    requirements: ['CERT-CRITERIA'],
    endpoint: { cert: 'leaf-empty-subject' },
    ems: { certificates: { validation_criteria: { Cert_Common_Name: 'localhost' } } },
    expect: { outcome: 'refuses', class: 'criteria-mismatch' },
  },
  {
    id: 'criteria.empty-subject-issuer-only',
    title: 'Only the CA_Cert_* fields configured and matching, the certificate has an empty subject: connects',
    requirements: ['CERT-CRITERIA'],
    endpoint: { cert: 'leaf-empty-subject' },
    ems: {
      certificates: {
        validation_criteria: {
          CA_Cert_Common_Name: LEAF_VALID_FIELDS.CA_Cert_Common_Name,
          CA_Cert_Organization: LEAF_VALID_FIELDS.CA_Cert_Organization,
          CA_Cert_Organizational_Name: LEAF_VALID_FIELDS.CA_Cert_Organizational_Name,
        },
      },
    },
    expect: { outcome: 'connects' },
  },
]);
