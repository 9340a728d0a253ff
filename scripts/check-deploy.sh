#!/usr/bin/env bash
# Checks deploy/, whose units and files the Debian package ships as they are:
# the torrc with the real tor, the systemd units with systemd-analyze (verify,
# and an exposure score of at most 1.5 for the onion unit), the sysusers.d and
# tmpfiles.d entries, and the units' ExecCondition before setup. Usage: scripts/check-deploy.sh PATH-TO-SEALDROP-BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:?path to the sealdrop binary}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "tor --verify-config deploy/torrc"
sed -e "s#/var/lib/tor/#$work/tor/#" deploy/torrc > "$work/torrc"
echo "DataDirectory $work/tor-data" >> "$work/torrc"
mkdir -p "$work/tor" && chmod 700 "$work/tor"
tor --verify-config -f "$work/torrc" | tail -n 1 | grep -qx "Configuration was valid" \
  || { tor --verify-config -f "$work/torrc"; echo "FAIL: deploy/torrc"; exit 1; }

for conf in torrc-front torrc-onionbalance; do
  echo "tor --verify-config deploy/scale-out/$conf"
  sed -e "s#/var/lib/tor/#$work/tor/#; s#/run/tor/control#$work/tor/control#" "deploy/scale-out/$conf" > "$work/$conf"
  echo "DataDirectory $work/tor-data-$conf" >> "$work/$conf"
  # tor reads the shared address from ob_config in the front's service folder.
  install -d -m 0700 "$work/tor/sealdrop-front"
  cp deploy/scale-out/ob_config "$work/tor/sealdrop-front/ob_config"
  tor --verify-config -f "$work/$conf" | tail -n 1 | grep -qx "Configuration was valid" \
    || { tor --verify-config -f "$work/$conf"; echo "FAIL: deploy/scale-out/$conf"; exit 1; }
done
echo "deploy/scale-out/onionbalance.yaml has the shape onionbalance reads"
python3 - deploy/scale-out/onionbalance.yaml <<'PY'
import sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
for service in config["services"]:
    assert service["key"].startswith("/")
    assert len(service["instances"]) >= 2
    for instance in service["instances"]:
        assert len(instance["address"]) == 56 and instance["name"], instance
PY

for unit in sealdrop.service sealdrop-https.service sealdrop-notify.service sealdrop-notify.timer; do
  # Same unit, with ExecStart pointing at the binary under test.
  sed -e "s#/usr/bin/sealdrop#$bin#" "deploy/$unit" > "$work/$unit"
  if [ "$unit" = sealdrop-notify.service ]; then
    echo "sealdrop notify --config deploy/notify.toml parses"
    # Only its parsing: the example servers do not exist (exit 1: sending failed;
    # 2 would be a configuration error).
    printf 'x' > "$work/smtp-password"
    sed -e "s#/etc/sealdrop/smtp-password#$work/smtp-password#" deploy/notify.toml > "$work/notify.toml"
    set +e; timeout 60 "$bin" notify --config "$work/notify.toml" --smtp-server smtps://127.0.0.1:9 >/dev/null 2>&1; status=$?; set -e
    [ "$status" -eq 1 ] || { echo "FAIL: deploy/notify.toml (exit $status)"; exit 1; }
  fi
  echo "systemd-analyze verify $unit"
  out=$(systemd-analyze verify "$work/$unit" 2>&1 || true)
  if [ -n "$out" ]; then echo "$out"; echo "FAIL: systemd-analyze verify $unit"; exit 1; fi
  case "$unit" in *.timer) continue ;; esac
  score=$(systemd-analyze security --offline=true "$work/$unit" 2>&1 | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
  echo "exposure score of $unit: $score"
  limit=1.5
  [ "$unit" = sealdrop-https.service ] && limit=2.0  # needs TCP and CAP_NET_BIND_SERVICE
  [ "$unit" = sealdrop-notify.service ] && limit=2.0  # needs outgoing TCP
  awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s != "" && s <= l) }' \
    || { echo "FAIL: exposure $score above $limit for $unit"; exit 1; }
done
echo "the packaged sysusers.d and tmpfiles.d entries make the user and a private store"
mkdir -p "$work/root/etc"
systemd-sysusers --root="$work/root" "$PWD/deploy/debian/sysusers.conf" >/dev/null 2>&1
grep -q '^sealdrop:x:[0-9]*:[0-9]*:.*:/nonexistent:/usr/sbin/nologin$' "$work/root/etc/passwd" \
  || { cat "$work/root/etc/passwd"; echo "FAIL: deploy/debian/sysusers.conf"; exit 1; }
systemd-tmpfiles --root="$work/root" --create "$PWD/deploy/debian/tmpfiles.conf"
[ "$(stat -c %a "$work/root/var/lib/sealdrop/store")" = 700 ] || { echo "FAIL: deploy/debian/tmpfiles.conf"; exit 1; }

echo "the units' ExecCondition: the packaged config before setup is skipped (1), a broken one fails (255)"
for unit in sealdrop.service sealdrop-https.service; do
  grep -qx "ExecCondition=/usr/bin/sealdrop setup --ready --config /etc/sealdrop/$(basename "$unit" .service).toml" "deploy/$unit" \
    || { echo "FAIL: $unit has no ExecCondition for its config"; exit 1; }
done
if [ ! -e /etc/sealdrop/recipients.txt ]; then
  set +e
  "$bin" setup --ready --config deploy/sealdrop.toml 2> "$work/condition.err"; status=$?
  set -e
  [ "$status" -eq 1 ] && grep -q "not set up yet" "$work/condition.err" \
    || { cat "$work/condition.err"; echo "FAIL: ExecCondition on the packaged config (exit $status)"; exit 1; }
fi
# Set up (keys in place) but the pickup token lost: a failure, not a skip.
sed -e "s#/etc/sealdrop/recipients.txt#$PWD/keys.example#" deploy/sealdrop.toml > "$work/lost-token.toml"
set +e
"$bin" setup --ready --config "$work/lost-token.toml" 2> "$work/condition.err"; status=$?
set -e
[ "$status" -eq 255 ] && grep -q "no pickup token" "$work/condition.err" \
  || { cat "$work/condition.err"; echo "FAIL: ExecCondition with keys but no token (exit $status)"; exit 1; }
printf 'listen = [\n' > "$work/broken.toml"
set +e
"$bin" setup --ready --config "$work/broken.toml" 2> "$work/condition.err"; status=$?
set -e
[ "$status" -eq 255 ] || { cat "$work/condition.err"; echo "FAIL: ExecCondition on a broken config (exit $status)"; exit 1; }
echo "deploy/ ok"
