// What every screen offers the app: a root element, data refresh, layout and key actions.
import type blessed from 'blessed';
import type { EngineApi } from '../../contract/api.js';
import type { Theme } from '../present/colors.js';
import type { DataModel, Topic } from '../state/data.js';
import type { ActionId, ScreenId } from '../keys.js';

export interface ViewContext {
  screen: blessed.Widgets.Screen;
  theme: Theme;
  data: DataModel;
  engine: EngineApi;
  requestRender(): void;
  /** VM actions in flight, by VM name ("starting", "stopping", ...). */
  pending: Map<string, string>;
  /** The VM the console and actions apply to. */
  selectedVm: string | null;
  showError(title: string, err: unknown): void;
}

export interface View {
  readonly id: ScreenId;
  readonly root: blessed.Widgets.BoxElement;
  show(): void;
  hide(): void;
  /** Rebuild content after data changed (null: everything). */
  refresh(topics: Set<Topic> | null): void;
  /** Screen resized: recompute sizes, then refresh. */
  relayout(): void;
  /** Handle a key-table action; false when it does not apply here. */
  action(a: ActionId): boolean;
  /** The line under the header: title and context. */
  title(): string;
  dispose?(): void;
}

/** Rows available between the header (2 lines) and status + footer (2 lines). */
export const CHROME_TOP = 2;
export const CHROME_BOTTOM = 2;
