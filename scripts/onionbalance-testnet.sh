#!/usr/bin/env bash
# deploy/scale-out/ through the private Tor network, by hand (docs/SCALE-OUT.md):
# two sealdrop fronts on one Garage bucket, each behind its own tor with the
# service lines of deploy/scale-out/torrc-front, and onionbalance publishing the
# master descriptor; then a source's submissions to the OnionBalance address,
# their pickup and decryption, and what the master descriptor carries.
#
#   SEALDROP_TORNET_VOTING=20 scripts/tor-testnet.sh      # in another terminal
#   cargo build --bins && scripts/onionbalance-testnet.sh TORNET_DIR SOURCE_SOCKS
#
# onionbalance's --is-testnet assumes chutney's 20 s voting interval; the
# network must vote every 20 s (SEALDROP_TORNET_VOTING=20), or the master
# descriptor is published for the wrong time period. Needs tor, onionbalance,
# python3-stem, curl, age (scripts/test.sh --install-only installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
NET=$1; SOCKS=$2; W=${WORK:-$PWD/target/tmp/onionbalance}; BIN=$PWD/target/debug
rm -rf "$W"; mkdir -p -m700 "$W"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
COMMON=$(sed -n '1,/^DirAuthority/p' "$NET/relay1/torrc")
start_tor() { # name, extra config
  local d=$W/$1; mkdir -p -m700 "$d"
  printf '%s\nDataDirectory %s\nSocksPort 0\nLog notice file %s/notice.log\n%s\n' "$COMMON" "$d" "$d" "$2" > "$d/torrc"
  tor -f "$d/torrc" >/dev/null 2>&1 & pids+=($!)
}
wait_file() { for _ in $(seq 600); do [ -s "$1" ] && return 0; sleep 0.5; done; echo "timeout: $1" >&2; return 1; }

# The master key and address (OnionBalance's), made by tor itself.
mkdir -p -m700 "$W/master-hs"
start_tor master-keygen "HiddenServiceDir $W/master-hs/
HiddenServicePort 80 127.0.0.1:9"
wait_file "$W/master-hs/hostname"
kill "${pids[-1]}"  # its own descriptor for the address must not race OnionBalance's
MASTER=$(cat "$W/master-hs/hostname"); echo "OnionBalance address: $MASTER"

# Keys, pickup token, one Garage node.
age-keygen -o "$W/identity.txt" 2>/dev/null; age-keygen -y "$W/identity.txt" > "$W/r.txt"
python3 -c 'import secrets;print(secrets.token_hex(32))' > "$W/token"; chmod 600 "$W/token"
HASH=$(tr -d '\n' < "$W/token" | sha256sum | cut -d' ' -f1)
G=$(scripts/build-garage.sh | tail -1)
D=$W/garage; rm -rf $D; mkdir -p $D
cat > $D/garage.toml <<T
metadata_dir = "$D/meta"
data_dir = "$D/data"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:3901"
rpc_public_addr = "127.0.0.1:3901"
rpc_secret = "$(printf '0f%.0s' $(seq 32))"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:3900"
root_domain = ".s3.garage.localhost"
T
RUST_LOG=garage=warn $G -c $D/garage.toml server > $D/log 2>&1 &
pids+=($!)
sleep 3
ID=$($G -c $D/garage.toml node id -q | cut -d@ -f1)
$G -c $D/garage.toml layout assign -z dc1 -c 1G $ID >/dev/null
$G -c $D/garage.toml layout apply --version 1 >/dev/null
$G -c $D/garage.toml bucket create drop >/dev/null
$G -c $D/garage.toml key import --yes -n sealdrop GK0123456789abcdef01234567 5ea1d70905ea1d70905ea1d70905ea1d70905ea1d70905ea1d70905ea1d70900 >/dev/null
$G -c $D/garage.toml bucket allow --read --write --owner drop --key GK0123456789abcdef01234567 >/dev/null
echo garage up
export AWS_ENDPOINT_URL=http://127.0.0.1:3900 AWS_REGION=garage AWS_ACCESS_KEY_ID=GK0123456789abcdef01234567 \
  AWS_SECRET_ACCESS_KEY=5ea1d70905ea1d70905ea1d70905ea1d70905ea1d70905ea1d70905ea1d70900

# Two fronts: tor with deploy/scale-out/torrc-front's service lines, and sealdrop.
for n in 1 2; do
  mkdir -p -m700 "$W/front$n-hs" "$W/spool$n"
  echo "MasterOnionAddress $MASTER" > "$W/front$n-hs/ob_config"
  extra=(); [ $n = 1 ] && extra=(--pickup-listen "unix:$W/pickup.sock" --pickup-token-sha256 "$HASH")
  "$BIN/sealdrop" serve --recipients "$W/r.txt" --store s3://drop --spool "$W/spool$n" \
     --listen "unix:$W/front$n.sock" --min-free-disk 1MiB "${extra[@]}" > "$W/front$n.log" 2>&1 & pids+=($!)
  SERVICE=$(sed -n '/^HiddenServiceDir \/var\/lib\/tor\/sealdrop-front\//,/^HiddenServiceMaxStreamsCloseCircuit/p' deploy/scale-out/torrc-front \
     | sed "s|/var/lib/tor/sealdrop-front/|$W/front$n-hs/|; s|unix:/run/sealdrop/source.sock|unix:$W/front$n.sock|")
  start_tor "front$n-tor" "$SERVICE"
done
wait_file "$W/front1-hs/hostname"; wait_file "$W/front2-hs/hostname"
F1=$(cat "$W/front1-hs/hostname"); F2=$(cat "$W/front2-hs/hostname"); echo "fronts: $F1 $F2"

# OnionBalance and its tor.
start_tor ob-tor "ControlPort 127.0.0.1:9951"
cat > "$W/ob.yaml" <<Y
services:
- key: $W/master-hs/hs_ed25519_secret_key
  instances:
  - address: ${F1%.onion}
    name: front1
  - address: ${F2%.onion}
    name: front2
Y
sleep 5
onionbalance -p 9951 -c "$W/ob.yaml" --is-testnet -v info > "$W/ob.log" 2>&1 & pids+=($!)

# A source through the OnionBalance address.
started=$(date +%s)
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 --socks5-hostname "$SOCKS" "http://$MASTER/")" = 200 ]; do
  [ $(( $(date +%s) - started )) -lt 300 ] || { echo "the OnionBalance address never answered" >&2; exit 1; }
  sleep 5
done
echo "reachable after $(( $(date +%s) - started )) s"
for i in 1 2 3 4 5 6; do
  curl -s -o /dev/null -w "submission $i: %{http_code} in %{time_total} s\n" --max-time 60 --socks5-hostname "$SOCKS" \
    -H "Sec-Fetch-Site: same-origin" -F "message=through the OnionBalance address, $i" "http://$MASTER/submit"
done
mkdir -m700 "$W/inbox"
"$BIN/sealdrop" pickup --from "unix:$W/pickup.sock" --token-file "$W/token" --to "$W/inbox"
"$BIN/sealdrop-open" decrypt -i "$W/identity.txt" -o "$W/opened" "$W"/inbox/*.age > /dev/null
echo "decrypted: $(grep -rh 'OnionBalance address' "$W/opened" | sort | tr '\n' ';')"

# What the master descriptor carries, beside a front's own.
/usr/bin/python3 - "$MASTER" "$F1" <<'PY'
import sys, time
from stem.control import Controller
from stem.descriptor.hidden_service import HiddenServiceDescriptorV3
with Controller.from_port(port=9951) as c:
    c.authenticate()
    for name, addr in (("master (OnionBalance)", sys.argv[1]), ("front 1 (its own)", sys.argv[2])):
        a = addr.removesuffix(".onion")
        c.msg(f"HSFETCH {a}")
        for _ in range(60):
            try:
                raw = c.get_info(f"hs/client/desc/id/{a}")
                break
            except Exception:
                time.sleep(1)
        text = str(HiddenServiceDescriptorV3.from_str(raw).decrypt(a))
        keys = {}
        for line in text.splitlines():
            k = line.split(" ")[0]
            if k in ("create2-formats", "flow-control", "pow-params", "introduction-point", "single-onion-service"):
                keys[k] = keys.get(k, 0) + 1
        pow = [l for l in text.splitlines() if l.startswith("pow-params")]
        print(f"{name}: {keys}; pow-params: {pow[0] if pow else 'none'}")
PY
