# banger seed 20-mounts, at every boot: mount the VM's shared folders. $SEED/banger/mounts has
# one line per folder, "TAG GUESTDIR ro|rw TRANSPORT" (TRANSPORT: virtiofs, QEMU's vhost-user
# device with that tag). ro is also enforced on the host: the server's view is read-only.
M="$SEED/banger/mounts"
[ -s "$M" ] || exit 0
modprobe virtiofs 2>/dev/null
rc=0
while read -r tag dir mode transport; do
  [ -n "$tag" ] || continue
  if [ "$transport" != virtiofs ]; then echo "banger-mounts: $tag: unknown transport $transport"; rc=1; continue; fi
  if grep -q " $dir virtiofs " /proc/mounts; then continue; fi
  mkdir -p "$dir" || { rc=1; continue; }
  opts=rw; [ "$mode" = ro ] && opts=ro
  if mount -t virtiofs -o "$opts" "$tag" "$dir"; then
    echo "banger-mounts: $tag on $dir ($mode)"
  else
    echo "banger-mounts: cannot mount $tag on $dir"; rc=1
  fi
done < "$M"
exit $rc
