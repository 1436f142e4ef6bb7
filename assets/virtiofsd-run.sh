#!/bin/sh
# Runs one virtiofsd for one shared folder, as the invoking user, inside the user and mount
# namespaces `unshare -rm` made for it (uid 0 in there is the user outside):
#   virtiofsd-run.sh VIRTIOFSD SHIM SOCKET SOURCE ROOT ro|rw
# SOURCE is bound onto ROOT (an empty dir of the VM's) and, for ro, made read-only there, so the
# guest cannot write it whatever it remounts. /run gets a private tmpfs for virtiofsd's lock
# dir (/run/virtiofsd, root's outside). SHIM (LD_PRELOAD) lets its "drop supplementary groups"
# pass in a namespace where setgroups is denied (the groups cannot be changed there anyway).
set -eu
VIRTIOFSD=$1 SHIM=$2 SOCKET=$3 SOURCE=$4 ROOT=$5 MODE=$6
mount --rbind -- "$SOURCE" "$ROOT"
if [ "$MODE" = ro ]; then mount -o remount,bind,ro -- "$ROOT"; fi
mount -t tmpfs -o mode=0700 tmpfs /run
export LD_PRELOAD="$SHIM"
exec "$VIRTIOFSD" "--socket-path=$SOCKET" -o "source=$ROOT" -o cache=auto -o no_posix_lock
