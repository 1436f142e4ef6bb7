// A small keyboard form (create VM, build image). Hand-rolled rather than blessed.form so
// keys are predictable: Tab/↓ next field, S-Tab/↑ previous, ←/→ cycle a choice, Enter submit,
// Esc cancel. Submit errors (e.g. from the engine) stay in the form so the user can fix them.
import blessed from 'blessed';
import { escapeTags, fit } from '../present/rows.js';
import { keyName, type KeyEventLike } from '../keys.js';
import { wrap, type Modal } from './dialogs.js';
import type { Theme } from '../present/colors.js';

export interface FormField {
  key: string;
  label: string;
  kind: 'text' | 'choice';
  value: string;
  options?: string[];
  hint?: string;
}

export type FormValues = Record<string, string>;

/** Pure editing logic, separate from drawing. */
export class FormState {
  index = 0;
  error: string | null = null;
  constructor(readonly fields: FormField[]) {}

  get current(): FormField {
    return this.fields[this.index]!;
  }
  values(): FormValues {
    return Object.fromEntries(this.fields.map((f) => [f.key, f.value]));
  }

  /** Apply a key; returns 'submit', 'cancel' or null. */
  key(k: string | null, ch?: string): 'submit' | 'cancel' | null {
    const f = this.current;
    switch (k) {
      case 'escape':
        return 'cancel';
      case 'enter':
        return 'submit';
      case 'tab':
      case 'down':
        this.index = (this.index + 1) % this.fields.length;
        return null;
      case 'S-tab':
      case 'up':
        this.index = (this.index + this.fields.length - 1) % this.fields.length;
        return null;
      case 'left':
      case 'right':
        if (f.kind === 'choice' && f.options?.length) {
          const i = f.options.indexOf(f.value);
          const n = f.options.length;
          f.value = f.options[(i + (k === 'right' ? 1 : n - 1)) % n]!;
        }
        return null;
      case 'backspace':
        if (f.kind === 'text') f.value = f.value.slice(0, -1);
        return null;
      case 'C-u':
        if (f.kind === 'text') f.value = '';
        return null;
    }
    if (f.kind === 'text' && ch && ch.length === 1 && ch >= ' ' && ch !== '\x7f' && k !== null) f.value += ch;
    else if (f.kind === 'choice' && k === ' ' && f.options?.length) return this.key('right');
    return null;
  }
}

export class FormDialog implements Modal {
  readonly state: FormState;
  private box: blessed.Widgets.BoxElement;
  private busy = false;

  constructor(
    private screen: blessed.Widgets.Screen,
    private theme: Theme,
    title: string,
    fields: FormField[],
    private onSubmit: (v: FormValues) => Promise<string | null>,
    private onClose: () => void,
    private requestRender: () => void,
  ) {
    this.state = new FormState(fields);
    this.box = blessed.box({
      parent: screen,
      top: 'center',
      left: 'center',
      width: Math.min(64, (screen.width as number) - 2),
      height: Math.min(fields.length + 6, (screen.height as number) - 2),
      tags: true,
      label: ` ${escapeTags(title)} `,
      border: { type: 'line' },
      padding: { left: 1, right: 1 },
      style: { border: { fg: theme.border }, label: { bold: true } },
    });
    this.draw();
  }

  private draw(): void {
    const inner = Math.max(20, (this.box.width as number) - 4);
    const labelW = Math.max(...this.state.fields.map((f) => f.label.length)) + 1;
    const valueW = Math.max(8, inner - labelW - 2);
    const lines = this.state.fields.map((f, i) => {
      const active = i === this.state.index;
      const shown = f.kind === 'choice' ? `‹ ${f.value || '(none)'} ›` : f.value + (active ? '▏' : '');
      const val = escapeTags(fit(shown, valueW));
      const body = active
        ? `{${this.theme.selectedBg}-bg}{${this.theme.selectedFg}-fg}${val}{/${this.theme.selectedFg}-fg}{/${this.theme.selectedBg}-bg}`
        : `{underline}${val}{/underline}`;
      return `${active ? '{bold}' : ''}${escapeTags(f.label.padEnd(labelW))}${active ? '{/bold}' : ''} ${body}`;
    });
    const hint = this.state.current.hint ?? (this.state.current.kind === 'choice' ? '←/→ to choose' : 'type to edit');
    // An error (a path in it, say) gets up to three lines; the box grows to hold them.
    const error = this.state.error ? wrap(this.state.error, inner - 1).slice(0, 3) : [];
    lines.push(
      '',
      ...(error.length
        ? error.map((l) => `{red-fg}${escapeTags(fit(l, inner - 1))}{/red-fg}`)
        : [this.busy ? '{yellow-fg}working…{/yellow-fg}' : escapeTags(fit(hint, inner))]),
    );
    lines.push('{bold}Enter{/bold} submit  {bold}Tab{/bold} next  {bold}Esc{/bold} cancel');
    this.box.height = Math.min(lines.length + 2, (this.screen.height as number) - 2);
    this.box.setContent(lines.join('\n'));
  }

  handleKey(ch: string | undefined, key: KeyEventLike): boolean {
    if (this.busy) return true;
    const r = this.state.key(keyName(ch, key), ch);
    if (r === 'cancel') {
      this.onClose();
      return true;
    }
    if (r === 'submit') {
      this.busy = true;
      this.state.error = null;
      this.draw();
      void this.onSubmit(this.state.values()).then((err) => {
        this.busy = false;
        if (err === null) {
          this.onClose();
          return;
        }
        this.state.error = err;
        this.draw();
        this.requestRender();
      });
      return true;
    }
    this.state.error = null;
    this.draw();
    return true;
  }

  relayout(): void {
    this.draw();
  }
  destroy(): void {
    this.box.destroy();
  }
}

/** Single-line input state for the `/` filter and `:` command prompt. */
export class LineInput {
  constructor(public value = '') {}
  key(k: string | null, ch?: string): 'submit' | 'cancel' | 'changed' | null {
    if (k === 'escape') return 'cancel';
    if (k === 'enter') return 'submit';
    if (k === 'backspace') {
      this.value = this.value.slice(0, -1);
      return 'changed';
    }
    if (k === 'C-u') {
      this.value = '';
      return 'changed';
    }
    if (k !== null && ch && ch.length === 1 && ch >= ' ' && ch !== '\x7f') {
      this.value += ch;
      return 'changed';
    }
    return null;
  }
}
