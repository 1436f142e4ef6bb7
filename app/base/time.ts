// The one sleep: a promise that resolves after ms (polling loops in drivers and the CLI).
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
