import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsWriter } from '../harness/report/allure-writer.ts';

describe('allure-results writer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'allure-writer-')), 'allure-results');
  });
  afterEach(() => rm(join(dir, '..'), { recursive: true, force: true }));

  it('writes results, containers, attachments and properties under the names allure reads, no temporary file left', async () => {
    const w = new ResultsWriter(dir);
    w.writeResult({ uuid: 'r1', name: 'case' } as Parameters<ResultsWriter['writeResult']>[0]);
    w.writeGroup({ uuid: 'g1', children: ['r1'] } as Parameters<ResultsWriter['writeGroup']>[0]);
    w.writeAttachment('a1-attachment.txt', Buffer.from('evidence\n'));
    const src = join(dir, '..', 'log.txt');
    await writeFile(src, 'ems log\n');
    w.writeAttachmentFromPath('a2-attachment.txt', src);
    w.writeEnvironmentInfo({ target: 'simulator', 'odd key': 'a=b' });

    assert.deepEqual((await readdir(dir)).sort(), ['a1-attachment.txt', 'a2-attachment.txt', 'environment.properties', 'g1-container.json', 'r1-result.json']);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'r1-result.json'), 'utf8')), { uuid: 'r1', name: 'case' });
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'g1-container.json'), 'utf8')), { uuid: 'g1', children: ['r1'] });
    assert.equal(await readFile(join(dir, 'a1-attachment.txt'), 'utf8'), 'evidence\n');
    assert.equal(await readFile(join(dir, 'a2-attachment.txt'), 'utf8'), 'ems log\n');
    assert.match(await readFile(join(dir, 'environment.properties'), 'utf8'), /^target=simulator$/m);
  });

  it('writes a result with its scenario\'s real start and stop and a skip\'s reason, the carrier labels taken out', async () => {
    const w = new ResultsWriter(dir);
    const labels = [{ name: 'story', value: 'cert.x' }, { name: '_scenarioStart', value: '2026-01-02T03:04:05.678Z' }, { name: '_scenarioDurationMs', value: '95' }, { name: '_statusReason', value: 'known divergence: r (https://t/1)' }];
    const steps = [{ name: 'EMS log', start: 9e12, stop: 9e12 }];
    w.writeResult({ uuid: 'r1', name: 'case', start: 9e12, stop: 9e12 + 1, labels, steps, status: 'skipped', statusDetails: { message: 'Test skipped' } } as unknown as Parameters<ResultsWriter['writeResult']>[0]);
    const written = JSON.parse(await readFile(join(dir, 'r1-result.json'), 'utf8'));
    const start = Date.parse('2026-01-02T03:04:05.678Z');
    assert.equal(written.start, start);
    assert.equal(written.stop - written.start, 95);
    assert.deepEqual(written.labels, [{ name: 'story', value: 'cert.x' }]);
    assert.deepEqual(written.steps.map((x: { start: number; stop: number }) => [x.start, x.stop]), [[start + 95, start + 95]]);
    assert.equal(written.statusDetails.message, 'known divergence: r (https://t/1)');
  });

  it('a second write of a name replaces the first', async () => {
    const w = new ResultsWriter(dir);
    w.writeGlobals('globals.json', { attachments: [], errors: [] } as Parameters<ResultsWriter['writeGlobals']>[1]);
    w.writeGlobals('globals.json', { attachments: [], errors: [{ message: 'x', timestamp: 1 }] } as Parameters<ResultsWriter['writeGlobals']>[1]);
    assert.deepEqual(await readdir(dir), ['globals.json']);
    assert.equal(JSON.parse(await readFile(join(dir, 'globals.json'), 'utf8')).errors.length, 1);
  });

  it('passes every text through the redactor hook, leaves binary attachments byte for byte, and tells each file once in place', async () => {
    const published: string[] = [];
    const w = new ResultsWriter(dir, { redact: (t) => t.replaceAll('s3cr3t-app-key', '«redacted»'), published: (p) => published.push(p) });
    w.writeResult({ uuid: 'r1', name: 'AUTH with s3cr3t-app-key' } as Parameters<ResultsWriter['writeResult']>[0]);
    w.writeAttachment('a1-attachment.txt', Buffer.from('appKey: s3cr3t-app-key\n'));
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x73, 0x33, 0x63]);
    w.writeAttachment('a2-attachment.bin', binary);
    assert.equal(JSON.parse(await readFile(join(dir, 'r1-result.json'), 'utf8')).name, 'AUTH with «redacted»');
    assert.equal(await readFile(join(dir, 'a1-attachment.txt'), 'utf8'), 'appKey: «redacted»\n');
    assert.deepEqual(await readFile(join(dir, 'a2-attachment.bin')), binary);
    assert.deepEqual(published, ['r1-result.json', 'a1-attachment.txt', 'a2-attachment.bin'].map((f) => join(dir, f)));
  });
});
