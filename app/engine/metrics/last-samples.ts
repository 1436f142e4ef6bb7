// The metrics history trimmed to the newest N samples per series (keeps the wire small).
import type { MetricsSnapshot } from '../../contract/api.js';

export function lastSamples(snap: MetricsSnapshot, n: number | undefined): MetricsSnapshot {
  if (!n || !Number.isInteger(n) || n <= 0) return snap;
  return {
    host: snap.host.slice(-n),
    vms: Object.fromEntries(Object.entries(snap.vms).map(([id, s]) => [id, s.slice(-n)])),
  };
}
