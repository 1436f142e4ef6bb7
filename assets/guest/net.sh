#!/bin/sh
# banger guest network setup, shared by the busybox rcS and the systemd unit.
# Applies the kernel command line's ip= clause when the kernel did not (kernels without
# IP_PNP, e.g. Debian's cloud kernel, when no initramfs did it either), sets the hostname
# from it, and points resolv.conf at dns0 and dns1 (the gateway, banger's DNS, or the host's
# resolvers while that is down) or, failing that, the gateway.
# ip=<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>:<dns0>:<dns1>
PATH=/sbin:/bin:/usr/sbin:/usr/bin
IPARG=
for x in $(cat /proc/cmdline); do
  case "$x" in ip=*) IPARG=${x#ip=} ;; esac
done
[ -n "$IPARG" ] || exit 0

mask2prefix() {
  n=0; SAVED=$IFS; IFS=.
  for o in $1; do
    case $o in
      255) n=$((n+8)) ;; 254) n=$((n+7)) ;; 252) n=$((n+6)) ;; 248) n=$((n+5)) ;;
      240) n=$((n+4)) ;; 224) n=$((n+3)) ;; 192) n=$((n+2)) ;; 128) n=$((n+1)) ;;
    esac
  done
  IFS=$SAVED; echo $n
}

OLDIFS=$IFS; IFS=:; set -- $IPARG; IFS=$OLDIFS
CIP=$1; GW=$3; MASK=${4:-255.255.255.0}; HN=$5; DEV=${6:-eth0}; DNS0=$8; DNS1=$9
case "$CIP" in *.*.*.*) ;; *) CIP= ;; esac

[ -n "$HN" ] && hostname "$HN" && { echo "$HN" > /etc/hostname; } 2>/dev/null
i=0
while [ ! -e "/sys/class/net/$DEV" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
ip link set lo up
ip link set "$DEV" up 2>/dev/null
if [ -n "$CIP" ] && ! ip -4 addr show dev "$DEV" 2>/dev/null | grep -q 'inet '; then
  ip addr add "$CIP/$(mask2prefix "$MASK")" dev "$DEV"
  [ -n "$GW" ] && ip route add default via "$GW" dev "$DEV" 2>/dev/null
fi
NS=${DNS0:-$GW}
if [ -n "$NS" ]; then
  rm -f /etc/resolv.conf
  echo "nameserver $NS" > /etc/resolv.conf
  [ -n "$DNS1" ] && echo "nameserver $DNS1" >> /etc/resolv.conf
fi
# Names that never need a server: localhost and this VM's own name.
[ -f /etc/hosts ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > /etc/hosts 2>/dev/null
if [ -n "$HN" ] && ! grep -q "[[:space:]]$HN\$" /etc/hosts 2>/dev/null; then
  printf '127.0.1.1\t%s\n' "$HN" >> /etc/hosts 2>/dev/null
fi
exit 0
