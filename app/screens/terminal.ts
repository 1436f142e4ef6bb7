// Handing the terminal to another program (the system ssh) and taking it back: the one place
// that leaves blessed's alternate screen. blessed buffers what it writes until the next tick,
// so the switch to the normal screen is flushed before output is muted; otherwise the child
// draws over the TUI's frame, which stays up.
import type blessed from 'blessed';

export async function suspendTerminal<T>(screen: blessed.Widgets.Screen, fn: () => Promise<T>): Promise<T> {
  const program = screen.program;
  const input = program.input as NodeJS.ReadStream;
  program.normalBuffer();
  program.clear();
  program.showCursor();
  program.flush();
  const output = program.output as { write: unknown };
  const write = output.write;
  // blessed must not draw while the child owns the terminal (a render from an event).
  output.write = () => true;
  program.input.pause();
  input.setRawMode?.(false);
  try {
    return await fn();
  } finally {
    output.write = write;
    input.setRawMode?.(true);
    program.input.resume();
    program.alternateBuffer();
    program.hideCursor();
    program.flush();
    // Everything on screen is stale: the next render draws every cell.
    screen.alloc();
  }
}
