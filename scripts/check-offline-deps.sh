#!/usr/bin/env bash
# sealdrop-open and sealdrop-inbox run on an air-gapped machine. Their
# Cargo.toml files are the offline guarantee (they name no network crate);
# this proves it from the resolved tree, for the build and for the tests
# alike, with a list of banned crates as a second guard. The inbox links
# GTK's bindings, glib and gio among them: gio binds sockets and resolvers
# too (C code in libgio, linked by every GTK program), so for the inbox the
# guard is also that its own code names none of gio's network types.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='^(tokio|tokio-[a-z-]+|hyper|hyper-util|h2|h3|axum|axum-core|tower|tower-http|rustls|tokio-rustls|mio|socket2|reqwest|ureq|quinn|native-tls|openssl|curl|multer|lettre|object_store|webpki-roots) '
status=0
for package in sealdrop-open sealdrop-inbox; do
  tree=$(cargo tree --locked -p "$package" --edges normal,build --prefix none --format '{p}')
  if echo "$tree" | grep -E "$banned"; then
    echo "FAIL: $package depends on the network crates above" >&2
    status=1
  fi
  # Its tests must build it exactly as it ships: dev-dependencies may add
  # crates for the tests themselves, never features to what it links. A
  # feature that only names others already on (serde_core's `default` beside
  # `std` and `result`) changes nothing, so each set is compared expanded.
  features() {
    cargo tree --locked -p "$package" --edges "$1" --prefix none --format '{p}|{f}' | sed 's/ (\*)$//' | sort -u
  }
  changed=$(python3 - <(features normal,build) <(features normal,build,dev) \
      <(cargo metadata --locked --quiet --format-version 1) <<'PY'
import json, sys
shipped, tested, metadata = (open(p).read() for p in sys.argv[1:4])
defined = {}
for pkg in json.loads(metadata)["packages"]:
    defined[f"{pkg['name']} v{pkg['version']}"] = pkg["features"]

def expand(crate, features):
    table, seen, todo = defined.get(crate, {}), set(), [f for f in features if f]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo += [g for g in table.get(f, []) if not g.startswith("dep:") and "/" not in g]
    # A feature that only turns on other features (`default`) is not compared:
    # what it turns on is.
    alias = lambda f: table.get(f) and all(not g.startswith("dep:") and "/" not in g for g in table[f])
    return frozenset(f for f in seen if not alias(f))

def sets(text):
    out = {}
    for line in text.splitlines():
        if "|" not in line:
            continue
        crate, feats = line.split("|", 1)
        crate = crate.split(" (")[0].strip()
        out.setdefault(crate, set()).add(expand(crate, feats.split(",")))
    return out

built, tests = sets(shipped), sets(tested)
for crate, variants in sorted(tests.items()):
    if crate in built and not variants <= built[crate]:
        extra = set().union(*variants) - set().union(*built[crate])
        print(f"{crate}: {', '.join(sorted(extra)) or 'another combination'}")
PY
)
  if [ -n "$changed" ]; then
    echo "FAIL: $package's tests build these crates with features it does not ship with:" >&2
    echo "$changed" >&2
    status=1
  fi
  [ $status -eq 0 ] && echo "ok: $package's dependency tree ($(echo "$tree" | sort -u | wc -l) crates) has no network stack, and its tests build it as it ships"
done
# A socket opened by hand through the standard library would show in no
# dependency tree: none of the crates it is built from may name one.
# One file is exempt: the sandbox's self-test tries to open sockets from
# inside the sandbox, to show that it cannot (tests/format/sandbox.rs asserts
# every attempt fails).
if grep -rnE 'std::net|TcpStream|TcpListener|UdpSocket|UnixStream|UnixListener' \
    crates/sealdrop-open/src crates/sealdrop-inbox/src crates/sealdrop-format/src crates/sealdrop-scrub/src |
    grep -v '^crates/sealdrop-scrub/src/sandbox/self_test.rs:'; then
  echo "FAIL: the offline program's crates open sockets (above)" >&2
  status=1
fi
# gio's network side, by the names of its types and calls: sockets, TLS,
# DTLS, proxies, resolvers, network addresses and the network monitor.
if grep -rnE 'gio::(Socket|Tcp|Udp|Inet|Tls|Dtls|Proxy|Resolver|Network|DBusServer)|NetworkMonitor|resolver_get_default|SocketClient' \
    crates/sealdrop-inbox/src; then
  echo "FAIL: sealdrop-inbox names gio's network types (above)" >&2
  status=1
fi
exit $status
