// Virtualised list maths: the full list stays in memory, blessed gets only the rows that fit.

export interface Viewport {
  selected: number;
  offset: number;
}

/** Keep `selected` inside [0, total) and visible within `rows` lines starting at `offset`. */
export function clampViewport(v: Viewport, total: number, rows: number): Viewport {
  if (total <= 0) return { selected: 0, offset: 0 };
  const r = Math.max(1, rows);
  const selected = Math.max(0, Math.min(total - 1, v.selected));
  let offset = Math.max(0, Math.min(v.offset, Math.max(0, total - r)));
  if (selected < offset) offset = selected;
  if (selected >= offset + r) offset = selected - r + 1;
  return { selected, offset };
}

export function moveSelection(v: Viewport, delta: number, total: number, rows: number): Viewport {
  return clampViewport({ selected: v.selected + delta, offset: v.offset }, total, rows);
}

/** Re-find the selected item after a refetch by its key, so the cursor stays on the same VM. */
export function reselect<T>(
  items: readonly T[],
  key: (t: T) => string,
  selectedKey: string | null,
  fallback: number,
): number {
  if (selectedKey !== null) {
    const i = items.findIndex((t) => key(t) === selectedKey);
    if (i >= 0) return i;
  }
  return Math.max(0, Math.min(fallback, items.length - 1));
}
