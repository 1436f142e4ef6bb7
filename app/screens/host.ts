// What actions need from the app, and nothing more: actions see this interface, never the App,
// so there is no import cycle between them (not even of types) and a test can drive actions
// with a small host of its own.
import type blessed from 'blessed';
import type { EngineApi, ImageRecord, KernelRecord } from '../contract/api.js';
import type { Theme } from './present/colors.js';
import type { DataModel } from './state/data.js';
import type { Modal } from './widgets/dialogs.js';
import type { ScreenId } from './keys.js';

/** What quitting means when VMs run in an embedded engine. */
export type QuitChoice = 'leave-running' | 'stop-vms' | 'quit';

export interface ActionHost {
  readonly screen: blessed.Widgets.Screen;
  readonly theme: Theme;
  readonly engine: EngineApi;
  readonly data: DataModel;
  /** embedded: the engine lives in this process, so quitting asks about running VMs. */
  readonly mode: 'embedded' | 'attached';
  readonly current: ScreenId;
  /** The VM actions apply to (the VM table's cursor, or the console's VM). */
  readonly selectedVm: string | null;
  selectVm(name: string): void;
  selectedImage(): ImageRecord | undefined;
  selectedKernel(): KernelRecord | undefined;
  /** What is in flight for a VM ("starting", "deleting", ...), if anything. */
  pendingFor(name: string): string | undefined;
  setPending(name: string, what: string | null): void;
  info(text: string): void;
  showError(title: string, err: unknown): void;
  openModal(m: Modal): void;
  closeModal(): void;
  requestRender(): void;
  switchTo(id: ScreenId): void;
  /** Hand the terminal to fn (ssh) and take it back when it settles. */
  suspend<T>(fn: () => Promise<T>): Promise<T>;
  /** Runs the system ssh with the terminal handed over; absent, ssh shows the command instead. */
  readonly runSsh?: (name: string) => Promise<number>;
  /** Runs `image shell` with the terminal handed over; absent, e shows the command instead. */
  readonly runImageShell?: (image: string, saveAs: string | undefined) => Promise<number>;
  quitWith(choice: QuitChoice): Promise<void>;
}
