// Header, status line and footer text: pure functions of the data, drawn by the app.
import type { EngineStatus, VmRecord, VmState } from '../../contract/api.js';
import { stateColor } from './colors.js';
import { escapeTags } from './rows.js';
import { countByState } from '../../contract/vm-facts.js';
import { SCREENS, SCREEN_TITLES, type ScreenId } from '../keys.js';

/** Header line 1: mode, DNS and VM counts by state. */
export function headerLine(
  mode: 'embedded' | 'attached',
  status: EngineStatus | null,
  vms: readonly VmRecord[],
  accent: string,
): string {
  const parts = [`{bold}{${accent}-fg}banger{/${accent}-fg}{/bold}`, `[${mode}]`];
  if (status) {
    const l = status.dns.listeners.find((x) => x.up) ?? status.dns.listeners[0];
    const down = l?.heldBy ? `held by ${l.heldBy.user ?? `uid ${l.heldBy.uid}`}` : 'down';
    const addr = l
      ? escapeTags(`${l.address}:${l.port}`) + (l.up ? '' : ` {red-fg}${escapeTags(down)}{/red-fg}`)
      : 'off';
    parts.push(`DNS ${addr} (${status.dns.records} rec)`);
  } else {
    parts.push('DNS -');
  }
  const counts = countByState(vms);
  const order: VmState[] = ['running', 'paused', 'starting', 'stopping', 'created', 'stopped', 'error'];
  const shown = order
    .filter((s) => counts[s] > 0)
    .map((s) => `{${stateColor(s)}-fg}${counts[s]} ${s}{/${stateColor(s)}-fg}`);
  parts.push(`VMs ${vms.length}${shown.length ? ': ' + shown.join(' ') : ''}`);
  return ' ' + parts.join('  ');
}

/** Header line 2: the screen tabs, current one highlighted. */
export function tabsLine(current: ScreenId, accent: string): string {
  return (
    ' ' +
    SCREENS.map((s, i) => {
      const label = `${i + 1} ${SCREEN_TITLES[s]}`;
      return s === current ? `{inverse}{bold} ${label} {/bold}{/inverse}` : `{${accent}-fg} ${label} {/${accent}-fg}`;
    }).join('')
  );
}

export const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Status line: pending actions with a spinner frame, else the last message. */
export function statusLine(
  pending: ReadonlyMap<string, string>,
  frame: number,
  message: { text: string; kind: 'info' | 'error' } | null,
): string {
  if (pending.size) {
    const list = [...pending].map(([name, what]) => `${what} ${name}…`).join(', ');
    return ` {yellow-fg}${SPINNER[frame % SPINNER.length]} ${escapeTags(list)}{/yellow-fg}`;
  }
  if (!message) return '';
  return message.kind === 'error'
    ? ` {red-fg}✗ ${escapeTags(message.text)}{/red-fg}`
    : ` {green-fg}✓{/green-fg} ${escapeTags(message.text)}`;
}
