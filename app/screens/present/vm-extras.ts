// What a developer brought into a VM (shared folders, published ports, first-boot config) and an
// image's OCI config, as the TUI shows them: short lines for the detail pane (only what is set),
// and every fact, "none" and "no" included, as pairs for the Enter overlays. Pure, no blessed.
import type { ImageConfig, ImageRecord, MountSpec, PortSpec, VmRecord } from '../../contract/api.js';
import { formatBytes } from '../../base/human.js';
import { escapeTags, fit } from './rows.js';

/** host dir → guest dir, with (ro) when read-only. */
export function mountText(m: MountSpec): string {
  return `${m.hostDir} → ${m.guestDir}${m.readOnly ? ' (ro)' : ''}`;
}

/** addr:host → guest/proto ([::1]:8080 for IPv6). */
export function portText(p: PortSpec): string {
  return `${p.addr.includes(':') ? `[${p.addr}]` : p.addr}:${p.hostPort} → ${p.guestPort}/${p.proto}`;
}

function userDataText(vm: Pick<VmRecord, 'userData'>): string {
  return vm.userData ? `yes, ${formatBytes(Buffer.byteLength(vm.userData))}` : 'no';
}

function keysText(n: number): string {
  return n === 0 ? 'none' : n === 1 ? '1 key' : `${n} keys`;
}

/** The first-boot facts in one phrase, or null when the VM has none of them. */
export function firstBootText(vm: Pick<VmRecord, 'userData' | 'sshKeys' | 'run'>): string | null {
  const keys = vm.sshKeys?.length ?? 0;
  if (!vm.userData && !keys && !vm.run) return null;
  return `user-data ${userDataText(vm)}; ssh ${keysText(keys)}; run ${vm.run ? 'yes' : 'no'}`;
}

/**
 * Lines for the detail pane, `width` columns each: one for the mounts, one for the ports, one for
 * the first-boot facts, each only when the VM has them (a plain VM's pane does not change).
 */
export function vmExtraLines(vm: VmRecord, width: number): string[] {
  const rows: [string, string][] = [];
  if (vm.mounts?.length) rows.push(['mounts', vm.mounts.map(mountText).join(', ')]);
  if (vm.ports?.length) rows.push(['ports', vm.ports.map(portText).join(', ')]);
  const boot = firstBootText(vm);
  if (boot) rows.push(['first boot', boot]);
  const labelW = 11;
  return rows.map(
    ([k, v]) => `{bold}${escapeTags(k.padEnd(labelW))}{/bold}${escapeTags(fit(v, Math.max(1, width - labelW)))}`,
  );
}

/** Label for the first item, blank for the rest (a list under one label); "none" when empty. */
function listed(label: string, items: string[]): [string, string][] {
  return items.length ? items.map((v, i) => [i ? '' : label, v]) : [[label, 'none']];
}

/** Every fact, for the VM details overlay (one line per mount and per port). */
export function vmExtraPairs(vm: VmRecord): [string, string][] {
  return [
    ...listed('mounts', (vm.mounts ?? []).map(mountText)),
    ...listed('ports', (vm.ports ?? []).map(portText)),
    ['user-data', userDataText(vm)],
    ['ssh keys', keysText(vm.sshKeys?.length ?? 0)],
    ['run', vm.run ? "yes (the image's entrypoint/cmd at boot)" : 'no'],
  ];
}

/** A command line as a shell would read it back (words with blanks or quotes quoted). */
function argv(words: string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** An OCI image's config as pairs (nothing when the image has none: a built image). */
export function imageConfigPairs(config: ImageConfig | null | undefined): [string, string][] {
  if (!config) return [];
  const rows: [string, string][] = [
    ['entrypoint', config.entrypoint.length ? argv(config.entrypoint) : '-'],
    ['cmd', config.cmd.length ? argv(config.cmd) : '-'],
    ['workdir', config.workingDir || '-'],
    ['user', config.user || '-'],
    ['exposed ports', config.exposedPorts.length ? config.exposedPorts.join(', ') : 'none'],
    ...listed('env', config.env),
  ];
  if (config.digest) rows.push(['digest', config.digest]);
  if (config.platform) rows.push(['platform', config.platform]);
  return rows;
}

/** Every field of an image, its OCI config included, for the Images screen's details overlay. */
export function imageDetailPairs(img: ImageRecord): [string, string][] {
  return [
    ['name', img.name],
    ['source', img.source],
    ['size', formatBytes(img.sizeBytes)],
    ['init', img.init ?? '-'],
    ['sha256', img.sha256],
    ['path', img.path],
    ['created', img.createdAt],
    ...imageConfigPairs(img.config),
  ];
}
