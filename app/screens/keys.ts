// The one key table: every binding is data, and the footer, the `?` help
// overlay and the dispatcher are all generated from it, so they can never disagree.

export type ScreenId = 'vms' | 'console' | 'images' | 'dns' | 'engine' | 'metrics';
export const SCREENS: readonly ScreenId[] = ['vms', 'console', 'images', 'dns', 'engine', 'metrics'];
export const SCREEN_TITLES: Record<ScreenId, string> = {
  vms: 'VMs',
  console: 'Console',
  images: 'Images',
  dns: 'DNS',
  engine: 'Engine',
  metrics: 'Metrics',
};

export type ActionId =
  | 'start'
  | 'stop'
  | 'restart'
  | 'delete'
  | 'create'
  | 'details'
  | 'console'
  | 'ssh'
  | 'pause'
  | 'snapshot'
  | 'suspend'
  | 'snapshots'
  | 'image-shell'
  | 'build'
  | 'fetch-kernel'
  | 'import-image'
  | 'cancel-build'
  | 'focus-images'
  | 'focus-kernels'
  | 'filter'
  | 'command'
  | 'help'
  | 'quit'
  | 'next-screen'
  | 'prev-screen'
  | 'screen-vms'
  | 'screen-console'
  | 'screen-images'
  | 'screen-dns'
  | 'screen-engine'
  | 'screen-metrics'
  | 'up'
  | 'down'
  | 'page-up'
  | 'page-down'
  | 'home'
  | 'end'
  | 'console-input'
  | 'back'
  | 'refresh';

export interface KeyBinding {
  /** 'global' bindings apply on every screen unless the screen binds the same key. */
  screen: ScreenId | 'global';
  /** Normalised key name, see keyName(). */
  key: string;
  /** How the key is shown in the footer and help. */
  display?: string;
  label: string;
  action: ActionId;
  /** Shown in the footer (the help overlay lists everything). */
  footer?: boolean;
}

export const KEY_TABLE: readonly KeyBinding[] = [
  // VMs
  { screen: 'vms', key: 'c', label: 'create', action: 'create', footer: true },
  { screen: 'vms', key: 's', label: 'start', action: 'start', footer: true },
  { screen: 'vms', key: 'x', label: 'stop', action: 'stop', footer: true },
  { screen: 'vms', key: 'r', label: 'restart', action: 'restart', footer: true },
  { screen: 'vms', key: 'd', label: 'delete', action: 'delete', footer: true },
  { screen: 'vms', key: 'enter', display: '⏎', label: 'details', action: 'details', footer: true },
  { screen: 'vms', key: 'o', label: 'console', action: 'console', footer: true },
  { screen: 'vms', key: 'S', label: 'ssh', action: 'ssh', footer: true },
  { screen: 'vms', key: 'p', label: 'pause/resume', action: 'pause', footer: true },
  { screen: 'vms', key: 'z', label: 'snapshot', action: 'snapshot', footer: true },
  { screen: 'vms', key: 'n', label: 'snapshots', action: 'snapshots', footer: true },
  { screen: 'vms', key: 'X', label: 'suspend', action: 'suspend', footer: true },
  { screen: 'vms', key: '/', label: 'filter', action: 'filter', footer: true },
  { screen: 'vms', key: 'up', display: '↑/k', label: 'up', action: 'up' },
  { screen: 'vms', key: 'k', label: 'up', action: 'up' },
  { screen: 'vms', key: 'down', display: '↓/j', label: 'down', action: 'down' },
  { screen: 'vms', key: 'j', label: 'down', action: 'down' },
  { screen: 'vms', key: 'pageup', display: 'PgUp', label: 'page up', action: 'page-up' },
  { screen: 'vms', key: 'pagedown', display: 'PgDn', label: 'page down', action: 'page-down' },
  { screen: 'vms', key: 'home', display: 'Home/g', label: 'first', action: 'home' },
  { screen: 'vms', key: 'g', label: 'first', action: 'home' },
  { screen: 'vms', key: 'end', display: 'End/G', label: 'last', action: 'end' },
  { screen: 'vms', key: 'G', label: 'last', action: 'end' },
  { screen: 'vms', key: 'escape', display: 'Esc', label: 'clear filter', action: 'back' },
  // Console
  { screen: 'console', key: 'i', label: 'input mode (Ctrl-] leaves)', action: 'console-input', footer: true },
  { screen: 'console', key: 'pageup', display: 'PgUp', label: 'scroll up', action: 'page-up', footer: true },
  { screen: 'console', key: 'pagedown', display: 'PgDn', label: 'scroll down', action: 'page-down', footer: true },
  { screen: 'console', key: 'end', display: 'End', label: 'follow', action: 'end' },
  { screen: 'console', key: 's', label: 'start', action: 'start' },
  { screen: 'console', key: 'x', label: 'stop', action: 'stop' },
  { screen: 'console', key: 'S', label: 'ssh', action: 'ssh', footer: true },
  { screen: 'console', key: 'escape', display: 'Esc', label: 'back to VMs', action: 'back', footer: true },
  // Images
  { screen: 'images', key: 'b', label: 'build image', action: 'build', footer: true },
  { screen: 'images', key: 'f', label: 'fetch kernel', action: 'fetch-kernel', footer: true },
  { screen: 'images', key: 'i', label: 'import image', action: 'import-image', footer: true },
  { screen: 'images', key: 'x', label: 'cancel build', action: 'cancel-build' },
  { screen: 'images', key: 'd', label: 'delete', action: 'delete', footer: true },
  { screen: 'images', key: 'e', label: 'shell in image', action: 'image-shell', footer: true },
  { screen: 'images', key: 'enter', display: '⏎', label: 'details', action: 'details', footer: true },
  { screen: 'images', key: 'left', display: '←/→', label: 'images/kernels', action: 'focus-images', footer: true },
  { screen: 'images', key: 'right', display: '→', label: 'kernels', action: 'focus-kernels' },
  { screen: 'images', key: 'up', display: '↑/k', label: 'up', action: 'up' },
  { screen: 'images', key: 'k', label: 'up', action: 'up' },
  { screen: 'images', key: 'down', display: '↓/j', label: 'down', action: 'down' },
  { screen: 'images', key: 'j', label: 'down', action: 'down' },
  { screen: 'images', key: 'pageup', display: 'PgUp', label: 'log up', action: 'page-up' },
  { screen: 'images', key: 'pagedown', display: 'PgDn', label: 'log down', action: 'page-down' },
  // DNS
  { screen: 'dns', key: 'up', display: '↑/k', label: 'up', action: 'up' },
  { screen: 'dns', key: 'k', label: 'up', action: 'up' },
  { screen: 'dns', key: 'down', display: '↓/j', label: 'down', action: 'down' },
  { screen: 'dns', key: 'j', label: 'down', action: 'down' },
  // Engine
  { screen: 'engine', key: 'pageup', display: 'PgUp', label: 'log up', action: 'page-up', footer: true },
  { screen: 'engine', key: 'pagedown', display: 'PgDn', label: 'log down', action: 'page-down', footer: true },
  { screen: 'engine', key: 'end', display: 'End', label: 'follow log', action: 'end' },
  // Metrics
  { screen: 'metrics', key: 'escape', display: 'Esc', label: 'back to VMs', action: 'back', footer: true },
  // Everywhere
  { screen: 'global', key: 'tab', display: 'Tab', label: 'next screen', action: 'next-screen', footer: true },
  { screen: 'global', key: 'S-tab', display: 'S-Tab', label: 'previous screen', action: 'prev-screen' },
  { screen: 'global', key: '1', label: 'VMs', action: 'screen-vms' },
  { screen: 'global', key: '2', label: 'Console', action: 'screen-console' },
  { screen: 'global', key: '3', label: 'Images', action: 'screen-images' },
  { screen: 'global', key: '4', label: 'DNS', action: 'screen-dns' },
  { screen: 'global', key: '5', label: 'Engine', action: 'screen-engine' },
  { screen: 'global', key: '6', label: 'Metrics', action: 'screen-metrics' },
  { screen: 'global', key: 'C-l', display: 'C-l', label: 'refresh', action: 'refresh' },
  { screen: 'global', key: ':', label: 'command', action: 'command', footer: true },
  { screen: 'global', key: '?', label: 'help', action: 'help', footer: true },
  { screen: 'global', key: 'q', label: 'quit', action: 'quit', footer: true },
  { screen: 'global', key: 'C-c', display: 'C-c', label: 'quit', action: 'quit' },
];

/** The screen a navigation action leads to from `current`; null when `a` is not navigation. */
export function screenAfter(a: ActionId, current: ScreenId): ScreenId | null {
  const i = SCREENS.indexOf(current);
  const n = SCREENS.length;
  if (a === 'next-screen') return SCREENS[(i + 1) % n]!;
  if (a === 'prev-screen') return SCREENS[(i + n - 1) % n]!;
  if (a === 'back') return 'vms';
  const m = /^screen-(.+)$/.exec(a);
  return m && (SCREENS as readonly string[]).includes(m[1]!) ? (m[1] as ScreenId) : null;
}

/** `:` commands that open a screen (singular and plural both work). */
export const COMMAND_SCREENS: Readonly<Record<string, ScreenId>> = {
  vms: 'vms',
  vm: 'vms',
  console: 'console',
  images: 'images',
  image: 'images',
  dns: 'dns',
  engine: 'engine',
  metrics: 'metrics',
};

/** The `:` commands, also listed in the help overlay. */
export const COMMANDS: readonly { name: string; label: string }[] = [
  { name: 'vms', label: 'VM list' },
  { name: 'console', label: 'console of the selected VM' },
  { name: 'images', label: 'images and builds' },
  { name: 'dns', label: 'DNS records' },
  { name: 'engine', label: 'engine status and log' },
  { name: 'metrics', label: 'host and VM metrics (key 6)' },
  { name: 'q', label: 'quit' },
];

export interface KeyEventLike {
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
}

const NAMED = new Set([
  'enter',
  'tab',
  'escape',
  'up',
  'down',
  'left',
  'right',
  'pageup',
  'pagedown',
  'home',
  'end',
  'backspace',
  'delete',
  'insert',
  'space',
]);

/** Map blessed's (ch, key) to the table's key names: printable chars as themselves,
 * named keys by name, control chords as C-x. Returns null for keys the table never uses
 * ('return' duplicates 'enter' in blessed, so it is dropped here). */
export function keyName(ch: string | undefined, key: KeyEventLike | undefined): string | null {
  const name = key?.name;
  if (name === 'return' || name === 'linefeed') return null;
  if (name === 'tab' && key?.shift) return 'S-tab';
  if (key?.ctrl && name && name.length === 1) return `C-${name}`;
  if (name && NAMED.has(name)) return name === 'space' ? ' ' : name;
  if (ch && ch.length === 1 && ch >= ' ' && ch !== '\x7f') return ch;
  return name ?? null;
}

/** Bindings in effect on a screen: the screen's own first, then globals it does not shadow. */
export function bindingsFor(screen: ScreenId, table: readonly KeyBinding[] = KEY_TABLE): KeyBinding[] {
  const own = table.filter((b) => b.screen === screen);
  const taken = new Set(own.map((b) => b.key));
  return [...own, ...table.filter((b) => b.screen === 'global' && !taken.has(b.key))];
}

export function resolveKey(
  screen: ScreenId,
  key: string | null,
  table: readonly KeyBinding[] = KEY_TABLE,
): ActionId | null {
  if (key === null) return null;
  return bindingsFor(screen, table).find((b) => b.key === key)?.action ?? null;
}

const esc = (s: string): string => s.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));

/** Footer line (blessed tags) for a screen, cut to fit `width` columns on whole hints. */
export function footerText(screen: ScreenId, width: number, table: readonly KeyBinding[] = KEY_TABLE): string {
  const parts: string[] = [];
  let used = 0;
  for (const b of bindingsFor(screen, table).filter((x) => x.footer)) {
    const shown = b.display ?? b.key;
    const plainLen = shown.length + 1 + b.label.length + 2;
    if (used + plainLen > width) break;
    used += plainLen;
    parts.push(`{bold}{cyan-fg}${esc(shown)}{/cyan-fg}{/bold} ${esc(b.label)}`);
  }
  return parts.join('  ');
}

/** Help overlay lines (blessed tags): the current screen's bindings, then the commands. */
export function helpLines(screen: ScreenId, table: readonly KeyBinding[] = KEY_TABLE): string[] {
  const seen = new Set<string>();
  const rows: { keys: string; label: string }[] = [];
  for (const b of bindingsFor(screen, table)) {
    // Aliases (k for up) are folded into the row that displays them.
    const id = `${b.action}:${b.label}`;
    if (seen.has(id)) continue;
    seen.add(id);
    rows.push({ keys: b.display ?? b.key, label: b.label });
  }
  const w = Math.max(...rows.map((r) => r.keys.length));
  const lines = [`{bold}Keys on ${SCREEN_TITLES[screen]}{/bold}`, ''];
  for (const r of rows) lines.push(`  {cyan-fg}${esc(r.keys.padEnd(w))}{/cyan-fg}  ${esc(r.label)}`);
  lines.push('', '{bold}Commands{/bold}', '');
  for (const c of COMMANDS) lines.push(`  {cyan-fg}${esc((':' + c.name).padEnd(w))}{/cyan-fg}  ${esc(c.label)}`);
  return lines;
}

/** Problems in a key table: duplicate keys within a screen, missing labels. */
export function tableProblems(table: readonly KeyBinding[] = KEY_TABLE): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const b of table) {
    const id = `${b.screen}/${b.key}`;
    if (seen.has(id)) out.push(`duplicate key ${id}`);
    seen.add(id);
    if (!b.label.trim()) out.push(`no label for ${id}`);
  }
  return out;
}
