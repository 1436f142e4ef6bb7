// Lint: typescript-eslint's recommended rules, no import cycles, the layers' import boundaries
// (see BOUNDARIES), and functions that fit on a screen. Formatting is Prettier's job (npm run format), checked by npm run lint.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const FRONT_ENDS = ['./app/cli', './app/control', './app/screens'];
const TOP = ['./app/entry', './app/main.ts'];
const msg = (why) => ({ message: why });
/**
 * Who may import whom (architecture.md's layers), as import-x/no-restricted-paths zones: each
 * target folder may not import from the listed places. Checked by test/lint/boundaries.test.ts.
 */
const BOUNDARIES = [
  // Leaves: base imports nothing of ours above it.
  { target: './app/base', from: './app', except: ['./base'], ...msg('base/ is the leaf layer: it imports only base/') },
  // The contract every front end and the engine share: records, facts, pure validators.
  {
    target: './app/contract',
    from: './app',
    except: ['./base', './contract'],
    ...msg('contract/ imports only base/ and itself'),
  },
  // What root runs: itself only (its packages rule is below).
  {
    target: './app/priv/root',
    from: './app',
    except: ['./priv/root'],
    ...msg('priv/root/ runs as root: it imports node builtins and itself only'),
  },
  // The DNS server is handed its records: it never reaches into the engine.
  { target: './app/dns', from: './app', except: ['./dns', './base'], ...msg('dns/ imports only base/ and itself') },
  // The engine knows no front end, entry, or the user side of the root tools.
  {
    target: './app/engine',
    from: [...FRONT_ENDS, ...TOP],
    ...msg('the engine does not import front ends or entry code'),
  },
  {
    target: './app/engine',
    from: './app/priv',
    except: ['./root'],
    ...msg('the engine reads only priv/root/ (the policy type)'),
  },
  // What both drivers share, and the drivers, sit below the VM lifecycle and the engine.
  {
    target: ['./app/engine/driver', './app/engine/firecracker', './app/engine/qemu'],
    from: ['./app/engine/vm', './app/engine/engine.ts', './app/engine/wiring.ts'],
    ...msg('drivers import engine/driver/, not the lifecycle (engine/vm/) or the engine'),
  },
  // Front ends see the contract, not the engine (nor one another, but the CLI's control client).
  {
    target: FRONT_ENDS,
    from: ['./app/engine', './app/dns', './app/priv', ...TOP],
    ...msg('front ends import the contract (app/contract/), not the engine'),
  },
  { target: './app/screens', from: ['./app/cli', './app/control'], ...msg('screens import neither cli/ nor control/') },
  {
    target: './app/control',
    from: ['./app/cli', './app/screens'],
    ...msg('control imports neither cli/ nor screens/'),
  },
  { target: './app/cli', from: './app/screens', ...msg('cli imports no screens/') },
  { target: './app/priv', from: [...FRONT_ENDS, ...TOP], ...msg('priv/ imports no front end or entry code') },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'test-artifacts/', 'vmwork/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.test.json' })],
    },
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: BOUNDARIES }],
      // Console and DNS code matches control bytes on purpose.
      'no-control-regex': 'off',
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Root's code is installed alone (DIR/lib): node builtins and its own files, no packages.
    files: ['app/priv/root/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!node:|\\./)', message: 'priv/root/ imports node builtins and ./ only' }] },
      ],
    },
  },
  {
    // Test helpers hold parsed JSON of shapes the test itself asserts.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
