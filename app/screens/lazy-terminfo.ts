// blessed turns every string capability of the terminal's terminfo into a JavaScript function
// when the screen is created: ~400 of them, ~120 ms, of which a frame uses a few dozen. Here each
// one is compiled the first time it is called instead (same code, same result).
import blessed from 'blessed';

type Compile = (this: TputLike, info: unknown, key: string, str: unknown) => unknown;
interface TputLike {
  options?: { stringify?: boolean };
}

let patched = false;

export function lazyTerminfo(): void {
  if (patched) return;
  patched = true;
  const proto = (blessed as unknown as { Tput: { prototype: { _compile: Compile } } }).Tput.prototype;
  const compile = proto._compile;
  proto._compile = function (info, key, str) {
    // Non-strings compile to themselves; stringify mode wants strings, not functions.
    if (typeof str !== 'string' || !str || this.options?.stringify) return compile.call(this, info, key, str);
    let fn: ((...a: unknown[]) => unknown) | null = null;
    // The compiled functions take their parameters only (no `this`).
    return (...a: unknown[]) => {
      fn ??= compile.call(this, info, key, str) as (...a: unknown[]) => unknown;
      return fn(...a);
    };
  };
}
