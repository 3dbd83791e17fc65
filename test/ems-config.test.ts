import { strict as assert } from 'node:assert';
import { ConfigError, EmsConfig, jsonErrorOffset, parseConfigText } from '../harness/ems/config.ts';

const MINIMAL = { ws_servers: [{ host: 'platform.example', port: 443 }], appKey: 'k-123' };

function errorOf(text: string, file = 'config.json'): string {
  try {
    parseConfigText(text, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('config.json schema (harness/ems/config.ts)', () => {
  it('applies the documented defaults to a minimal file', () => {
    const c = parseConfigText(JSON.stringify(MINIMAL), 'config.json');
    assert.deepEqual(c.ws_connection, {
      encryption: 'ssl', verbose: false, connect_timeout: 10000, connect_retry_interval: 10000, connect_retries: -1,
      compression: true, msg_timeout: 10000, max_frame_size: 8192,
    });
    assert.deepEqual(c.certificates, { validate: true, allow_self_signed: false, disable_hostname_validation: false });
    assert.deepEqual(c.fips, { enabled: false });
    assert.deepEqual(c.http_server, { host: 'localhost', port: 8000 });
    assert.deepEqual(c.logger, { level: 'WARN' });
  });

  it('keeps unknown keys at every level and types the known ones', () => {
    const c = EmsConfig.parse({
      ...MINIMAL,
      vendor_extra: { a: 1 },
      ws_servers: [{ host: 'h', port: 1, gateway: 'x' }],
      certificates: { validate: false, fingerprint_allowlist: ['ab'], validation_criteria: { Cert_Common_Name: 'cn', Other: 'y' } },
      http_server: { port: 9000, csrf: true },
      logger: { level: 'TRACE', max_file_storage: 5 },
      auto_bind: [{ name: 'Thing1', gateway: true }],
    });
    assert.deepEqual(c['vendor_extra'], { a: 1 });
    assert.equal(c.ws_servers[0]?.['gateway'], 'x');
    assert.deepEqual(c.certificates['fingerprint_allowlist'], ['ab']);
    assert.equal(c.certificates.validation_criteria?.['Other'], 'y');
    assert.equal(c.certificates.validate, false);
    assert.equal(c.http_server['csrf'], true);
    assert.equal(c.http_server.host, 'localhost');
    assert.equal(c.auto_bind?.[0]?.['gateway'], true);
  });

  it('names the file and the dotted field path for schema errors', () => {
    const text = JSON.stringify({ ...MINIMAL, certificates: { validate: 'yes' } });
    assert.equal(errorOf(text), 'config.json: certificates.validate: expected boolean, got string');
    assert.match(errorOf(JSON.stringify({ ...MINIMAL, ws_servers: [{ host: 'h', port: 'x' }] }), '/etc/ems.json'),
      /^\/etc\/ems\.json: ws_servers\[0\]\.port: expected number, got string$/);
    assert.match(errorOf(JSON.stringify({ ...MINIMAL, ws_servers: [] })), /^config\.json: ws_servers: .*>=1/);
    assert.match(errorOf(JSON.stringify({ ws_servers: MINIMAL.ws_servers })), /^config\.json: appKey: required \(expected string\)$/);
    assert.match(errorOf(JSON.stringify({ ...MINIMAL, ws_connection: { encryption: 'tls' } })), /^config\.json: ws_connection\.encryption: /);
    assert.equal(errorOf('[]'), 'config.json: (root): expected object, got array');
  });

  it('reports every schema problem, and never a value (it may be a secret)', () => {
    const msg = errorOf(JSON.stringify({ ws_servers: [{ host: 'h', port: 1 }], appKey: 12345678, logger: { level: 'LOUD' } }));
    assert.match(msg, /appKey: expected string, got number/);
    assert.match(msg, /logger\.level: /);
    assert.ok(!msg.includes('12345678'));
    assert.ok(!msg.includes('LOUD'));
  });

  it('names line:column of malformed JSON without quoting the text', () => {
    const secret = 'super-secret-app-key';
    const text = `{\n  "appKey": "${secret}",\n  "ws_servers": [}\n`;
    const msg = errorOf(text);
    assert.match(msg, /^config\.json:3:18: malformed JSON: Unexpected token/);
    assert.ok(!msg.includes(secret), msg);
    assert.match(errorOf('{\n  "a": 1\n  "b": 2\n}'), /^config\.json:3:3: malformed JSON: Expected ',' or '}' after property value$/);
    assert.match(errorOf(''), /^config\.json:1:1: malformed JSON: Unexpected end of JSON input$/);
    assert.match(errorOf('{"a": tru}'), /^config\.json:1:10: /);
  });

  it('locates syntax errors where V8 does, when V8 says where', () => {
    const samples = ['{"a":1,}', '{"a" 1}', '{"a":1', '{"a":"x\ny"}', '[1,2]x', '{"a":01}', '{"a":[1,2,]}', '{"a":"\\q"}', '{"a":-}', '{"a":1.}', '{"a":1e}'];
    for (const text of samples) {
      let position: number | undefined;
      try {
        JSON.parse(text);
        assert.fail(`${text} parsed`);
      } catch (err) {
        const m = /at position (\d+)/.exec((err as Error).message);
        position = m ? Number(m[1]) : undefined;
      }
      if (position !== undefined) assert.equal(jsonErrorOffset(text), position, text);
      else assert.notEqual(jsonErrorOffset(text), -1, text);
    }
    assert.equal(jsonErrorOffset(' {"a": [true, false, null, -1.5e+3, "\\u00e9"]} '), -1);
  });

  it('tolerates a UTF-8 byte order mark', () => {
    assert.equal(parseConfigText(`\uFEFF${JSON.stringify(MINIMAL)}`, 'config.json').appKey, 'k-123');
  });
});
