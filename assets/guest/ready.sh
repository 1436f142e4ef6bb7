#!/bin/sh
# Tells the host the guest is up: banger (and its tests) wait for this line on the serial console.
PATH=/sbin:/bin:/usr/sbin:/usr/bin
IP=$(ip -4 -o addr show dev eth0 2>/dev/null | { read -r _ _ _ a _; echo "${a%/*}"; })
echo "BANGER_READY ${IP:-none}" > /dev/console
