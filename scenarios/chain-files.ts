import { family } from '../harness/scenario/model.ts';
import { VALIDATING } from './lib/common.ts';

// CERT-CHAIN: what a cert_chain file may look like. Every certificate in it is loaded wherever
// the issuer stands, and the PEM noise real CA files carry (comments, CRLF, no final newline)
// changes nothing. Each file holds the issuing root among unrelated CAs.

const chainFile = (file: string) => ({ certificates: { ...VALIDATING, cert_chain: { file } } });

export default family('chain-files', { requirements: ['CERT-CHAIN'], endpoint: { cert: 'leaf-valid' } }, [
  {
    id: 'cert.chain.issuer-first',
    title: 'cert_chain holding several CAs, the issuing root first: connects',
    ems: chainFile('chain-issuer-first.pem'),
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.chain.issuer-middle',
    title: 'cert_chain holding several CAs, the issuing root in the middle: connects',
    ems: chainFile('chain-issuer-middle.pem'),
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.chain.intermediate-in-file',
    title: 'Platform sends its leaf alone, cert_chain holds the intermediate and the root: connects',
    endpoint: { cert: 'leaf-valid', chain: [] },
    ems: chainFile('chain-root-and-intermediate.pem'),
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.chain.pem-comments',
    title: 'cert_chain with "#" comments and subject=/issuer= lines between the PEM blocks: connects',
    ems: chainFile('chain-comments.pem'),
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.chain.pem-crlf',
    title: 'cert_chain with CRLF line ends: connects',
    ems: chainFile('chain-crlf.pem'),
    expect: { outcome: 'connects' },
  },
  {
    id: 'cert.chain.pem-no-final-newline',
    title: 'cert_chain whose last certificate (the issuing root) has no final newline: connects',
    ems: chainFile('chain-no-final-newline.pem'),
    expect: { outcome: 'connects' },
  },
]);
