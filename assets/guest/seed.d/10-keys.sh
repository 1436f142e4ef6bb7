# banger seed 10-keys, at every boot: the VM's --ssh-key keys and its cloud-config's
# ssh_authorized_keys ($SEED/banger/keys, one per line) into root's authorized_keys. Keys
# already there (banger's own) are kept; a key is added once.
K="$SEED/banger/keys"
[ -s "$K" ] || exit 0
F=/root/.ssh/authorized_keys
mkdir -p /root/.ssh && chmod 0700 /root /root/.ssh
touch "$F" && chmod 0600 "$F"
n=0
while IFS= read -r k; do
  [ -n "$k" ] || continue
  grep -qxF "$k" "$F" && continue
  printf '%s\n' "$k" >> "$F" && n=$((n + 1))
done < "$K"
echo "banger-keys: $n key(s) added"
