// What a developer brings into a VM: shared folders, published ports and first-boot config,
// kept on the VM record (store: vms.mounts/ports/ssh_keys as JSON, user_data as text), and the
// image config an OCI import records. Validation lives beside each feature's parser.

/** One shared folder: a host directory mounted in the guest at boot. */
export interface MountSpec {
  /** Absolute, resolved host directory (checked to exist and be the user's to read). */
  hostDir: string;
  /** Absolute path in the guest. */
  guestDir: string;
  readOnly: boolean;
  /** Stable per-VM tag the guest mounts it by (m0, m1, ...). */
  tag: string;
}

export type PortProto = 'tcp' | 'udp';

/** One published port: ADDR:HOSTPORT on the host forwards to GUESTPORT in the guest. */
export interface PortSpec {
  /** Host address to listen on; 127.0.0.1 unless the user chose another. */
  addr: string;
  hostPort: number;
  guestPort: number;
  proto: PortProto;
}

/** An OCI image's config, kept from its import (what `vm create --run` starts). */
export interface ImageConfig {
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir: string | null;
  user: string | null;
  /** "80/tcp" and the like, as the image declares them. */
  exposedPorts: string[];
  /** The manifest digest the image was made from. */
  digest?: string | null;
  platform?: string | null;
}
