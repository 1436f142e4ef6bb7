// One build (image or kernel): its progress record, its log file, cancellation, and the
// commands it runs (every line of their output goes to the log file and to emitLog).
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BuildProgress } from '../../contract/api.js';
import type { ProcessRunner, RunOptions, RunResult } from '../../base/process.js';
import type { Paths } from '../../base/paths.js';
import type { Logger } from '../../base/log.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';

export type EmitProgress = (p: BuildProgress) => void;
export type EmitLog = (buildId: string, chunk: string) => void;

export interface JobDeps {
  runner: ProcessRunner;
  paths: Paths;
  logger: Logger;
  emit?: EmitProgress;
  emitLog?: EmitLog;
  /** The build history: every change of the record is kept (Store.putBuild). */
  history?: { putBuild(b: BuildProgress): void };
}

export class BuildJob {
  readonly id: string;
  readonly logPath: string;
  private readonly controller = new AbortController();
  private readonly progress: BuildProgress;

  constructor(
    private readonly deps: JobDeps,
    kind: 'image' | 'kernel',
    name: string,
    external?: AbortSignal,
  ) {
    this.id = `${kind}-${name}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    mkdirSync(deps.paths.buildsDir, { recursive: true, mode: 0o700 });
    this.logPath = join(deps.paths.buildsDir, `${this.id}.log`);
    this.progress = {
      id: this.id,
      kind,
      name,
      phase: 'queued',
      percent: 0,
      state: 'running',
      error: null,
      logPath: this.logPath,
      startedAt: new Date().toISOString(),
      endedAt: null,
    };
    if (external) {
      if (external.aborted) this.controller.abort();
      else external.addEventListener('abort', () => this.controller.abort(), { once: true });
    }
    appendFileSync(
      this.logPath,
      `# banger ${kind} build "${name}" (${this.id}) started ${new Date().toISOString()}\n`,
      { mode: 0o600 },
    );
    this.emit();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get state(): BuildProgress {
    return { ...this.progress };
  }
  get running(): boolean {
    return this.progress.state === 'running';
  }

  cancel(): void {
    this.controller.abort();
  }

  /** Throw E_CANCELLED between steps once cancelled. */
  check(): void {
    if (this.controller.signal.aborted) throw new BangerError(ErrorCodes.CANCELLED, `build ${this.id} cancelled`);
  }

  phase(phase: string, percent: number): void {
    this.check();
    this.progress.phase = phase;
    this.progress.percent = Math.max(this.progress.percent, Math.min(100, Math.round(percent)));
    this.log(`## ${phase} (${this.progress.percent}%)\n`);
    this.emit();
  }

  /** A phase's live detail (bytes fetched so far), shown but not logged. */
  detail(phase: string): void {
    if (!this.running || phase === this.progress.phase) return;
    this.progress.phase = phase;
    this.emit();
  }

  /** Progress inside a long phase (kernel compile), without a log line. */
  percent(percent: number): void {
    const p = Math.min(99, Math.round(percent));
    if (p <= this.progress.percent) return;
    this.progress.percent = p;
    this.emit();
  }

  log(chunk: string): void {
    try {
      appendFileSync(this.logPath, chunk);
    } catch {
      /* the log must not break the build */
    }
    this.deps.emitLog?.(this.id, chunk);
  }

  /** Run a command as part of this build: cancellable, output streamed to the log. */
  async run(
    argv: string[],
    opts: RunOptions & { onLine?: (chunk: string) => void; quiet?: boolean } = {},
  ): Promise<RunResult> {
    this.check();
    this.log(`$ ${argv.join(' ')}\n`);
    const { onLine, quiet, ...rest } = opts;
    const r = await this.deps.runner.run(argv, {
      ...rest,
      signal: this.controller.signal,
      onOutput: (c) => {
        // quiet: output the caller parses (a listing of every file) stays out of the log.
        if (!quiet) this.log(c);
        onLine?.(c);
      },
    });
    if (quiet && r.stderr) this.log(r.stderr);
    return r;
  }

  finish(state: 'done' | 'failed' | 'cancelled', error?: string): void {
    this.progress.state = state;
    this.progress.error = error ?? null;
    this.progress.endedAt = new Date().toISOString();
    if (state === 'done') this.progress.percent = 100;
    this.log(`# ${state}${error ? ': ' + error : ''} ${new Date().toISOString()}\n`);
    this.emit();
  }

  private emit(): void {
    try {
      this.deps.history?.putBuild({ ...this.progress });
    } catch (err) {
      this.deps.logger.warn('could not record the build in the store', { error: String(err) });
    }
    try {
      this.deps.emit?.({ ...this.progress });
    } catch (err) {
      this.deps.logger.warn('build progress listener failed', { error: String(err) });
    }
  }
}

/** Turn whatever stopped a build into the error the caller sees, and record the end state. */
export function failJob(job: BuildJob, err: unknown, what: string): BangerError {
  if (job.signal.aborted || (err instanceof BangerError && err.code === ErrorCodes.CANCELLED)) {
    job.finish('cancelled');
    return new BangerError(ErrorCodes.CANCELLED, `${what} cancelled`, { cause: err, details: { buildId: job.id } });
  }
  const msg = err instanceof Error ? err.message : String(err);
  job.finish('failed', msg);
  // User errors found mid-build (bad input rootfs) keep their code; host failures become E_BUILD_FAILED.
  // So do a full disk and a registry that cannot be reached: the caller acts on those codes.
  const kept: string[] = [ErrorCodes.NO_SPACE, ErrorCodes.REGISTRY_UNREACHABLE];
  if (err instanceof BangerError && (err.isUserError || kept.includes(err.code))) return err;
  return new BangerError(
    ErrorCodes.BUILD_FAILED,
    `${what} failed during "${job.state.phase}": ${msg} (log: ${job.logPath})`,
    { cause: err, details: { buildId: job.id, logPath: job.logPath } },
  );
}
