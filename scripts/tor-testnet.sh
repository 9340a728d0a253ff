#!/usr/bin/env bash
# A private Tor network on 127.0.0.1 (crates/sealdrop-testkit/src/tornet.rs): one directory
# authority, six relays, the onion services of deploy/torrc (paths rewritten)
# and two Tor clients, a source's and an editor's with the pickup service's
# client-authorization key. To try a deployment without the public Tor
# network: run this, then start sealdrop on the printed sockets and open the
# printed .onion address through the printed SOCKS port. Ctrl-C (or closing
# standard input) stops every tor process.
#   scripts/tor-testnet.sh
# Needs tor, torsocks and curl (scripts/test.sh --install-only installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --test server -- --ignored --exact \
  tor::private_tor_network_for_people_and_benchmarks --nocapture --test-threads 1 |
while IFS= read -r line; do
  case "$line" in
    *TORNET\ *)
      # libtest may print "test NAME ... " before the test's own output.
      json=${line#*TORNET }
      if [ -t 1 ]; then
        python3 - "$json" <<'PY'
import json, sys
n = json.loads(sys.argv[1])
print(f"""Private Tor network up in {n['started_in_secs']:.0f} s (files under {n['dir']}).

Start the drop on the sockets the onion services forward to, for example:
  sealdrop serve --recipients keys.txt --store STORE \\
      --listen unix:{n['source_socket']} \\
      --pickup-listen unix:{n['pickup_socket']} --pickup-token-sha256 HASH

Source service:  http://{n['source_onion']}/
  through the source client's SOCKS port {n['source_socks']}, e.g.
  curl --socks5-hostname {n['source_socks']} http://{n['source_onion']}/
  (a browser: SOCKS5 proxy {n['source_socks']}, with remote DNS)
Pickup service:  http://{n['pickup_onion']}  (client authorization: only the editor's client reaches it)
  TORSOCKS_CONF_FILE={n['torsocks_editor']} torsocks sealdrop pickup --from http://{n['pickup_onion']} --token-file TOKEN --to INBOX

Ctrl-C stops the network.""", flush=True)
PY
      else
        echo "TORNET $json"
      fi
      ;;
  esac
done
