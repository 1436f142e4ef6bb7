#!/bin/sh
# banger seed hook, at every boot before the ready marker: mount the seed drive (an ext4
# labelled cidata, the VM's second disk, read-only), copy it to /run/banger/seed and unmount it
# (the host rebuilds it at the next boot, so the guest keeps no hold on it), then run its
# banger/boot.d/*.sh in name order with SEED set. A failing script is logged; the boot goes on.
PATH=/sbin:/bin:/usr/sbin:/usr/bin; export PATH
SEED=/run/banger/seed; export SEED
MNT=/run/banger/seed.mnt
log() { echo "banger-seed: $*"; }
DEV=$(findfs LABEL=cidata 2>/dev/null)
[ -n "$DEV" ] || { [ -b /dev/vdb ] && DEV=/dev/vdb; }
[ -n "$DEV" ] || { log "no seed drive"; exit 0; }
mkdir -p "$MNT" && chmod 0700 /run/banger
if ! mount -t ext4 -o ro "$DEV" "$MNT"; then log "cannot mount $DEV"; exit 0; fi
rm -rf "$SEED"; mkdir -p "$SEED"
cp -a "$MNT/." "$SEED/"
umount "$MNT"; rmdir "$MNT"
chown -R 0:0 "$SEED"; chmod 0700 "$SEED"
for s in "$SEED"/banger/boot.d/*.sh; do
  [ -f "$s" ] || continue
  n=${s##*/}
  sh "$s" </dev/null; rc=$?
  if [ "$rc" = 0 ]; then log "$n ok"; else log "$n failed (exit $rc)"; fi
done
exit 0
