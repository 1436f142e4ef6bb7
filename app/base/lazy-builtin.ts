// Node built-ins that cost a CLI verb milliseconds to load (node:crypto pulls in ~20 internal
// modules, node:child_process ~5) and that most verbs never use: loaded on first call instead of
// at import. bench/startup.sh shows the difference.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export const nodeCrypto = (): typeof import('node:crypto') => load('node:crypto') as typeof import('node:crypto');

export const childProcess = (): typeof import('node:child_process') =>
  load('node:child_process') as typeof import('node:child_process');
