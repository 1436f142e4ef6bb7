// The `/` filter: space-separated terms, all must match. A bare term matches name, state,
// IP, image or backend as a substring; `field:value` (name:, state:, ip:, image:, backend:)
// matches one field. Case-insensitive.
import type { VmRecord } from '../../contract/api.js';

const FIELDS = ['name', 'state', 'ip', 'image', 'backend'] as const;
type Field = (typeof FIELDS)[number];

function fieldValue(vm: VmRecord, f: Field): string {
  return String(vm[f] ?? '').toLowerCase();
}

export function parseFilter(query: string): { field: Field | null; value: string }[] {
  return query
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => {
      const m = /^(\w+):(.*)$/.exec(t);
      if (m && (FIELDS as readonly string[]).includes(m[1]!)) return { field: m[1] as Field, value: m[2]! };
      return { field: null, value: t };
    });
}

export function matchesFilter(vm: VmRecord, query: string): boolean {
  return parseFilter(query).every(({ field, value }) =>
    field ? fieldValue(vm, field).includes(value) : FIELDS.some((f) => fieldValue(vm, f).includes(value)),
  );
}

export function filterVms(vms: readonly VmRecord[], query: string): VmRecord[] {
  if (!query.trim()) return [...vms];
  return vms.filter((vm) => matchesFilter(vm, query));
}
