// Helper for tap.test.ts, run INSIDE a test network namespace (sysfs is per netns):
//   node --import tsx netns-probe.ts counters TAP         -> {"rxBytes":..,"txBytes":..} or null
//   node --import tsx netns-probe.ts sample TAP PID MS    -> two sampler rounds MS apart, the VM's history
//   node --import tsx netns-probe.ts reopen TAP           -> kept-open counter files across a TAP recreate
// Not a test file: it does nothing when imported.
import { pathToFileURL } from 'node:url';
import { tapCounters } from '../../../app/engine/metrics/readers.js';
import { MetricsSampler } from '../../../app/engine/metrics/sampler.js';
import { KernelFile } from '../../../app/engine/metrics/handles.js';
import { createRunner } from '../../../app/base/process.js';

async function main(argv: string[]): Promise<void> {
  const [mode, tap, pid, ms] = argv;
  if (mode === 'counters') {
    process.stdout.write(JSON.stringify(tapCounters(tap)) + '\n');
    return;
  }
  if (mode === 'sample') {
    const sampler = new MetricsSampler({
      listVms: () => [
        { id: 'probe', name: 'probe', pid: Number(pid), tap, diskPath: null, memoryMib: 64, state: 'running' },
      ],
    });
    await sampler.sampleOnce();
    await new Promise((r) => setTimeout(r, Number(ms) || 1000));
    await sampler.sampleOnce();
    process.stdout.write(JSON.stringify(sampler.vmHistory('probe')) + '\n');
    return;
  }
  if (mode === 'reopen') {
    const path = `/sys/class/net/${tap}/statistics/rx_bytes`;
    const withReopen = new KernelFile(path);
    const without = new KernelFile(path);
    const before = [withReopen.read(), without.read()];
    const runner = createRunner();
    await runner.run(['ip', 'link', 'del', tap]);
    const whileGone = withReopen.read(true);
    await runner.run(['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    const after = [withReopen.read(true), without.read(false)];
    process.stdout.write(
      JSON.stringify({ before, whileGone, after, open: [withReopen.isOpen, without.isOpen] }) + '\n',
    );
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(String(e?.stack ?? e) + '\n');
    process.exit(1);
  });
}
