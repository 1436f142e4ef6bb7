# banger seed 30-firstboot: the user-data on images without cloud-init (busybox, banger's
# Debian). The host compiled it into $SEED/banger/firstboot: every-boot.sh (bootcmd, hostname)
# at every boot; once.sh (write_files then runcmd, or a #! script) once per instance-id, the
# marker kept on the guest's disk (a clone is a new instance and runs it again).
command -v cloud-init >/dev/null 2>&1 && { echo "banger-firstboot: cloud-init applies the user-data"; exit 0; }
D="$SEED/banger/firstboot"
[ -d "$D" ] || exit 0
ID=$(cat "$SEED/banger/instance-id")
[ -f "$D/every-boot.sh" ] && INSTANCE_ID=$ID sh "$D/every-boot.sh"
[ -f "$D/once.sh" ] || exit 0
M=/var/lib/banger/firstboot
[ -e "$M/$ID" ] && exit 0
mkdir -p "$M"
echo "banger-firstboot: first boot of instance $ID"
INSTANCE_ID=$ID sh "$D/once.sh"; rc=$?
date > "$M/$ID"
exit $rc
