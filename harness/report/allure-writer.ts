import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringifyEnvInfo, type Writer } from 'allure-js-commons/sdk/reporter';
import { withScenarioFacts } from './allure.ts';
import { textOf } from './redact.ts';

// allure-results as allure-mocha's own FileSystemWriter writes them (each file under a temporary
// name, then renamed: a reader never sees half a file), without its fsync per file: that blocks
// the event loop every scenario's evidence arrives on (~1.4 ms a test here), and the results are
// a run's by-product, regenerated with the run, not a record that must survive a power cut.

export interface ResultsWriterHooks {
  /** Every text written goes through this (binary attachments stay byte for byte). */
  redact?: (text: string) => string;
  /** Told each file once it is in place. */
  published?: (path: string) => void;
}

export class ResultsWriter implements Writer {
  #made = false;
  constructor(
    private readonly dir: string,
    private readonly hooks: ResultsWriterHooks = {},
  ) {}

  writeResult(result: Parameters<Writer['writeResult']>[0]): void {
    this.#json(`${result.uuid}-result.json`, withScenarioFacts(result));
  }
  writeGroup(group: Parameters<Writer['writeGroup']>[0]): void {
    this.#json(`${group.uuid}-container.json`, group);
  }
  writeAttachment(name: string, content: Buffer): void {
    this.#publish(name, this.#redacted(content));
  }
  writeAttachmentFromPath(name: string, from: string): void {
    this.#publish(name, this.#redacted(readFileSync(from)));
  }
  writeEnvironmentInfo(info: Parameters<Writer['writeEnvironmentInfo']>[0]): void {
    this.#publish('environment.properties', this.#redacted(stringifyEnvInfo(info)));
  }
  writeCategoriesDefinitions(categories: Parameters<Writer['writeCategoriesDefinitions']>[0]): void {
    this.#json('categories.json', categories);
  }
  writeGlobals(name: string, globals: Parameters<Writer['writeGlobals']>[1]): void {
    this.#json(name, globals);
  }

  #json(name: string, value: unknown): void {
    this.#publish(name, this.#redacted(JSON.stringify(value)));
  }

  /** Text as redacted text; bytes that are not UTF-8 text as they are (as redactTree does). */
  #redacted(content: string | Buffer): string | Buffer {
    const text = this.hooks.redact && textOf(content);
    return text === undefined ? content : this.hooks.redact!(text);
  }

  #publish(name: string, content: string | Buffer): void {
    if (!this.#made) mkdirSync(this.dir, { recursive: true });
    this.#made = true;
    const path = join(this.dir, name);
    const tmp = join(this.dir, `.${name}.tmp`);
    writeFileSync(tmp, content);
    renameSync(tmp, path);
    this.hooks.published?.(path);
  }
}
