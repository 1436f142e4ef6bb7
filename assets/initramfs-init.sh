#!/bin/sh
# banger's tiny initramfs /init (for kernels with virtio as modules and no IP_PNP, such as
# Debian's cloud kernel): load the virtio modules listed in /lib/modules/order, apply ip=,
# mount root=, switch_root. The rootfs's own net script sees the address and leaves it.
export PATH=/bin:/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sysfs /sys
for m in $(cat /lib/modules/order); do
  [ -f "/lib/modules/$m.ko" ] && insmod "/lib/modules/$m.ko" 2>/dev/null
done
ROOT=; IPARG=; INIT=/sbin/init; FSTYPE=ext4; RWO=rw
for x in $(cat /proc/cmdline); do
  case "$x" in
    root=*) ROOT=${x#root=} ;;
    ip=*) IPARG=${x#ip=} ;;
    init=*) INIT=${x#init=} ;;
    rootfstype=*) FSTYPE=${x#rootfstype=} ;;
    ro) RWO=ro ;;
  esac
done
if [ -n "$IPARG" ]; then
  # ip=<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>:<dns0>:<dns1>
  OLDIFS=$IFS; IFS=:; set -- $IPARG; IFS=$OLDIFS
  CIP=$1; GW=$3; MASK=${4:-255.255.255.0}; HN=$5; DEV=${6:-eth0}
  case "$CIP" in *.*.*.*) ;; *) CIP= ;; esac
  i=0; while [ ! -e "/sys/class/net/$DEV" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  ip link set lo up
  [ -n "$HN" ] && hostname "$HN"
  if [ -n "$CIP" ]; then
    ifconfig "$DEV" "$CIP" netmask "$MASK" up
    [ -n "$GW" ] && route add default gw "$GW" dev "$DEV"
  fi
fi
if [ -n "$ROOT" ]; then
  case "$ROOT" in LABEL=*|UUID=*) ROOT=$(findfs "$ROOT") ;; esac
  i=0; while [ ! -b "$ROOT" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
  mkdir -p /newroot
  if mount -t "$FSTYPE" -o "$RWO" "$ROOT" /newroot; then
    mount --move /dev /newroot/dev 2>/dev/null || mount -t devtmpfs devtmpfs /newroot/dev
    umount /proc /sys
    exec switch_root /newroot "$INIT"
  fi
  echo "initramfs: failed to mount $ROOT"
fi
echo "initramfs: no root, dropping to shell"
exec sh
