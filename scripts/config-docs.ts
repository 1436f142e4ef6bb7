// Writes docs/configuration.md from the code's one list of settings (app/engine/config-docs.ts).
// Run: node --import tsx scripts/config-docs.ts   (test/docs/config-docs.test.ts fails when stale)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigDocs } from '../app/engine/config-docs.js';

const out = join(import.meta.dirname, '..', 'docs', 'configuration.md');
writeFileSync(out, renderConfigDocs());
process.stdout.write(`wrote ${out}\n`);
