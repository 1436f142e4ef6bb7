// blessed turns every string capability of the terminal's terminfo into a JavaScript function
// when the screen is created: ~400 of them, ~120 ms, of which a frame uses a few dozen. Here each
// one is compiled the first time it is called instead (same code, same result).
import blessed from 'blessed';

type Compile = (this: TputLike, info: unknown, key: string, str: unknown) => unknown;
type Parse = (this: TputLike, data: Buffer, file: string) => unknown;
interface TputLike {
  options?: { stringify?: boolean };
}

/** ncurses 6's terminfo format with 32-bit numbers (screen-256color, tmux-256color on Debian). */
const MAGIC_32BIT = 0o1036;

let patched = false;

export function lazyTerminfo(): void {
  if (patched) return;
  patched = true;
  const proto = (blessed as unknown as { Tput: { prototype: { _compile: Compile; parseTerminfo: Parse } } }).Tput
    .prototype;
  // blessed reads this format as the old one and gets every number and string offset wrong.
  // Compiled eagerly, the garbage strings failed to compile and blessed fell back to its own
  // terminfo; compiled lazily, nothing fails at setup and the garbage reaches the terminal (a
  // scrambled frame, dialogs not drawn). Refusing the file here is that same fallback.
  const parse = proto.parseTerminfo;
  proto.parseTerminfo = function (data, file) {
    if (data.length > 1 && ((data[1]! << 8) | data[0]!) === MAGIC_32BIT)
      throw new Error(`${file}: terminfo with 32-bit numbers, which blessed cannot read`);
    return parse.call(this, data, file);
  };
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
