// Colour choices in one place. Basic colour names (and palette indexes, which blessed reduces
// with tput.colors) keep everything readable on an 8-colour terminal.
import type { VmState } from '../../contract/api.js';

export function stateColor(state: VmState): string {
  switch (state) {
    case 'running':
      return 'green';
    case 'starting':
    case 'stopping':
      return 'yellow';
    case 'paused':
      return 'blue';
    case 'error':
      return 'red';
    case 'created':
      return 'cyan';
    case 'stopped':
      return 'white';
  }
}

/** Accent colours: richer on 256-colour terminals, basic names otherwise. */
export interface Theme {
  accent: string;
  dim: string;
  selectedBg: string;
  selectedFg: string;
  border: string;
}

export function themeFor(colors: number): Theme {
  if (colors >= 256)
    return { accent: '#5fafff', dim: '#808080', selectedBg: '#005f87', selectedFg: 'white', border: '#5f87af' };
  return { accent: 'cyan', dim: 'white', selectedBg: 'blue', selectedFg: 'white', border: 'blue' };
}

/** Style of one terminal cell, as read from an xterm buffer. */
export interface CellStyle {
  fg: ColorRef;
  bg: ColorRef;
  bold: boolean;
  underline: boolean;
  inverse: boolean;
}

export type ColorRef = { kind: 'default' } | { kind: 'palette'; index: number } | { kind: 'rgb'; rgb: number };

function colorParam(c: ColorRef): string | null {
  if (c.kind === 'default') return null;
  if (c.kind === 'palette') return String(c.index);
  return '#' + c.rgb.toString(16).padStart(6, '0');
}

/** Open and close tags for a cell style; both '' for the default style. */
export function styleTags(s: CellStyle): { open: string; close: string } {
  const tags: string[] = [];
  if (s.bold) tags.push('bold');
  if (s.underline) tags.push('underline');
  if (s.inverse) tags.push('inverse');
  const fg = colorParam(s.fg);
  const bg = colorParam(s.bg);
  if (fg) tags.push(`${fg}-fg`);
  if (bg) tags.push(`${bg}-bg`);
  return {
    open: tags.map((t) => `{${t}}`).join(''),
    close: tags
      .reverse()
      .map((t) => `{/${t}}`)
      .join(''),
  };
}

export function sameStyle(a: CellStyle, b: CellStyle): boolean {
  return (
    a.bold === b.bold &&
    a.underline === b.underline &&
    a.inverse === b.inverse &&
    sameColor(a.fg, b.fg) &&
    sameColor(a.bg, b.bg)
  );
}

function sameColor(a: ColorRef, b: ColorRef): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'palette') return a.index === (b as { index: number }).index;
  if (a.kind === 'rgb') return a.rgb === (b as { rgb: number }).rgb;
  return true;
}

export const DEFAULT_STYLE: CellStyle = {
  fg: { kind: 'default' },
  bg: { kind: 'default' },
  bold: false,
  underline: false,
  inverse: false,
};
