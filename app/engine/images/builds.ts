// The builds one service (images or kernels) has in flight or recently finished: names
// reserved while they are made, the BuildJobs behind `builds` and `cancel`. Shared by
// ImageService and KernelService so both refuse, track and cancel the same way.
import type { BuildProgress } from '../../contract/api.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import { BuildJob, type JobDeps } from './job.js';

/** Finished builds kept for `builds` (running ones are always kept). */
const MAX_FINISHED_BUILDS = 50;

const WORDS = {
  image: { a: 'an image', busy: 'is being built' },
  kernel: { a: 'a kernel', busy: 'is being made' },
} as const;

export class BuildRegistry {
  private readonly jobs = new Map<string, BuildJob>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly kind: 'image' | 'kernel',
    private readonly deps: JobDeps,
    /** Is a finished artifact of this name registered already? */
    private readonly exists: (name: string) => boolean,
  ) {}

  list(): BuildProgress[] {
    return [...this.jobs.values()].map((j) => j.state);
  }

  cancel(buildId: string): void {
    const job = this.jobs.get(buildId);
    if (!job) throw new BangerError(ErrorCodes.NOT_FOUND, `no build with id "${buildId}"`);
    if (!job.running)
      throw new BangerError(ErrorCodes.INVALID_STATE, `build ${buildId} already ended (${job.state.state})`);
    job.cancel();
  }

  /** Reserve name for fn (refused when registered or already being made); freed whatever happens. */
  async hold<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.claim(name);
    try {
      return await fn();
    } finally {
      this.busy.delete(name);
    }
  }

  /** Reserve name and run fn as a tracked, cancellable BuildJob. */
  run<T>(name: string, signal: AbortSignal | undefined, fn: (job: BuildJob) => Promise<T>): Promise<T> {
    return this.hold(name, () => {
      const job = new BuildJob(this.deps, this.kind, name, signal);
      this.track(job);
      return fn(job);
    });
  }

  private claim(name: string): void {
    const w = WORDS[this.kind];
    if (this.exists(name)) throw new BangerError(ErrorCodes.NAME_TAKEN, `${w.a} named "${name}" already exists`);
    if (this.busy.has(name)) throw new BangerError(ErrorCodes.NAME_TAKEN, `${w.a} named "${name}" ${w.busy}`);
    this.busy.add(name);
  }

  private track(job: BuildJob): void {
    this.jobs.set(job.id, job);
    const done = [...this.jobs.values()].filter((j) => !j.running);
    for (const j of done.slice(0, Math.max(0, done.length - MAX_FINISHED_BUILDS))) this.jobs.delete(j.id);
  }
}
