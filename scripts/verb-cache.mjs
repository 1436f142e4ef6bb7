// Write dist/verb.cjs.cache (see scripts/build.mjs): compile the bundle the way bin/banger does
// (Module.wrap, vm.Script), run it once with the given argv, then save V8's code cache, which
// now includes every function that ran.
// usage: node scripts/verb-cache.mjs dist/verb.cjs ARGS...
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import vm from 'node:vm';

const file = resolve(process.argv[2]);
process.argv.splice(2, 1); // the bundle reads its argv from process.argv.slice(2)
const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file });
const mod = new Module(file, null);
mod.filename = file;
process.stdout.write = () => true; // the warm-up's help text is not wanted
process.on('exit', () => writeFileSync(`${file}.cache`, script.createCachedData()));
script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
