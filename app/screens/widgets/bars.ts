// The chrome's three bars: the header (mode, DNS, counts, tabs, screen title) on top, the
// status line (prompt, messages, actions in flight) and the footer (keys) at the bottom.
import blessed from 'blessed';
import type { Theme } from '../present/colors.js';
import { CHROME_TOP } from '../views/view.js';

export class Bars {
  private readonly header: blessed.Widgets.BoxElement;
  private readonly status: blessed.Widgets.BoxElement;
  private readonly footer: blessed.Widgets.BoxElement;

  constructor(screen: blessed.Widgets.Screen, theme: Theme) {
    this.header = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: CHROME_TOP, tags: true });
    this.status = blessed.box({ parent: screen, bottom: 1, left: 0, width: '100%', height: 1, tags: true });
    this.footer = blessed.box({
      parent: screen,
      bottom: 0,
      left: 0,
      width: '100%',
      height: 1,
      tags: true,
      style: { bg: theme.selectedBg === 'blue' ? 'black' : '#1c1c1c' },
    });
  }

  set(header: string, status: string, footer: string): void {
    this.header.setContent(header);
    this.status.setContent(status);
    this.footer.setContent(footer);
  }
}
