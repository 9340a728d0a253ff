#!/usr/bin/env bash
# The Debian packages, end to end, on this machine (root; CI's fresh machine):
#
#   scripts/test-packages.sh
#
#  1. build the packages twice, from two folders, and require identical bytes
#     (diffoscope shows where they differ); --version names the commit;
#  2. lintian; sealdrop-open's Depends are in every Debian 12 (and so Tails),
#     sealdrop-inbox's are sealdrop-open and Debian 12's GTK 4 (Tails has it);
#     the dependency list embedded in each binary read back and checked
#     against the RustSec snapshot; SHA256SUMS signed and checked with minisign;
#  3. an older version installed with dpkg -i, `sealdrop setup` from an answer
#     file, the server started as its unit starts it (no systemd as PID 1
#     here: ExecCondition, then ExecStart as User=), `sealdrop status`, a
#     submission; the upgrade from a signed apt repository read as file:
#     (a repository signed by another key refused); the waiting submission
#     picked up by the new version and opened by the installed sealdrop-open;
#     sealdrop-inbox installed from the same repository starts on a virtual
#     display and finds the sandbox helper where sealdrop-open put it;
#  4. remove keeps config and store; purge keeps the store and says so,
#     unless SEALDROP_PURGE_DELETES_STORE=yes;
#  5. a hand install as DEPLOY.md described it before packages (binary in
#     /usr/local/bin, unit in /etc/systemd/system, its own config), with a
#     submission waiting: the package installed over it, `sealdrop setup`
#     moves the shadows aside, the submission is picked up.
# It leaves the machine as it found it: packages purged, tor's config back.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "FAIL: run as root (it installs packages)" >&2; exit 1; }
# The tools, each checked for what it is (lintian, apt-ftparchive, gpg,
# minisign, dpkg-shlibdeps, curl, setpriv, tor), first on PATH.
scripts/test.sh --install-only >/dev/null
export PATH="$PWD/target/test-tools/bin:$PATH"
repo_root=$PWD
cache=${SEALDROP_CACHE:-/var/cache/sealdrop-tests}
export CARGO_TARGET_DIR=${SEALDROP_DEB_TARGET:-$cache/deb-target}
work=$(mktemp -d /tmp/sealdrop-packages.XXXXXX)
chmod 0755 "$work"
server_pid= tor_pid=
started=$SECONDS
step() { echo "-- [$((SECONDS - started)) s] $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# What this script may remove: only what it made. A machine with a sealdrop
# of its own (installed, or its store, config or onion keys) is refused,
# unless the marker says a run of this script left them.
marker=/var/lib/sealdrop-test-packages.marker
user_made=no
purge_all() {
  dpkg --purge sealdrop-inbox sealdrop sealdrop-open >/dev/null 2>&1 || true
  rm -rf /var/lib/sealdrop /etc/default/sealdrop /etc/sealdrop /run/sealdrop
  rm -f /usr/local/bin/sealdrop /usr/local/bin/sealdrop.before-package \
    /etc/systemd/system/sealdrop.service /etc/systemd/system/sealdrop.service.before-package
}
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
  # Nothing of the sealdrop user may be left running (it would hold the
  # store's lock for the next start).
  if pgrep -u sealdrop >/dev/null 2>&1; then
    echo "a process of the sealdrop user outlived its stop:" >&2
    pgrep -a -u sealdrop >&2 || true
    pkill -KILL -u sealdrop || true
    return 1
  fi
}
cleanup() {
  stop_server || true
  [ -z "$tor_pid" ] || { kill "$tor_pid" 2>/dev/null || true; wait "$tor_pid" 2>/dev/null || true; }
  purge_all
  if [ -f "$work/torrc.orig" ]; then cp "$work/torrc.orig" /etc/tor/torrc; fi
  rm -rf /var/lib/tor/sealdrop /var/lib/tor/sealdrop-pickup /etc/tor/torrc.d/sealdrop.conf
  rmdir /etc/tor/torrc.d 2>/dev/null || true
  if [ "$user_made" = yes ]; then
    userdel sealdrop 2>/dev/null || true
    groupdel sealdrop 2>/dev/null || true
  else
    gpasswd -d debian-tor sealdrop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  rm -f "$marker"
}
if dpkg-query -W -f='${Status}' sealdrop sealdrop-open sealdrop-inbox 2>/dev/null | grep -q installed \
  || [ -e /var/lib/sealdrop ] || [ -e /etc/sealdrop ] || [ -e /var/lib/tor/sealdrop ] \
  || [ -e /usr/local/bin/sealdrop ] || [ -e /etc/systemd/system/sealdrop.service ]; then
  [ -e "$marker" ] || fail "this machine has a sealdrop (package, store, config, onion keys or a hand install) this script did not make: it would purge them. Run it on a throwaway machine (CI's)."
fi
touch "$marker"
getent passwd sealdrop >/dev/null || user_made=yes
[ ! -e "$marker.user" ] || user_made=yes
[ "$user_made" = no ] || touch "$marker.user"
trap 'cleanup; rm -f "$marker.user"' EXIT
# A run that died midway leaves its packages: start from none.
purge_all

step "build twice, from two folders, and compare"
commit=$(git rev-parse HEAD)
scripts/build-packages.sh "$work/build1" > "$work/build1.log" 2>&1 || { cat "$work/build1.log"; fail "build 1"; }
git clone -q "$repo_root" "$work/elsewhere"
(cd "$work/elsewhere" && git checkout -q "$commit" && scripts/build-packages.sh "$work/build2") > "$work/build2.log" 2>&1 \
  || { cat "$work/build2.log"; fail "build 2"; }
for deb in "$work"/build1/*.deb; do
  other="$work/build2/$(basename "$deb")"
  if ! cmp -s "$deb" "$other"; then
    command -v diffoscope >/dev/null || apt-get install -y --no-install-recommends diffoscope-minimal >/dev/null
    diffoscope "$deb" "$other" || true
    fail "$(basename "$deb") differs between two builds of one commit"
  fi
  echo "identical: $(basename "$deb") $(sha256sum < "$deb" | cut -c1-16)…"
done
new_sealdrop=$(ls "$work"/build1/sealdrop_*.deb)
new_open=$(ls "$work"/build1/sealdrop-open_*.deb)
new_inbox=$(ls "$work"/build1/sealdrop-inbox_*.deb)
new_version=$(dpkg-deb -f "$new_sealdrop" Version)
# The same binaries as an older version: the upgrade's starting point.
scripts/build-packages.sh "$work/old" --no-build --deb-version "${new_version%-*}~pre1-1" >/dev/null
old_sealdrop=$(ls "$work"/old/sealdrop_*.deb)
old_open=$(ls "$work"/old/sealdrop-open_*.deb)

step "lintian (tags the packages accept are explained in deploy/debian/*.lintian-overrides)"
lintian --fail-on error,warning --info "$new_sealdrop" "$new_open" "$new_inbox" | tee "$work/lintian.log"

step "sealdrop-open depends only on what every Debian 12 (and Tails) has"
depends=$(dpkg-deb -f "$new_open" Depends)
echo "Depends: $depends"
# Every Debian (Tails included) has its Essential packages and what they
# depend on; the laptop's package may ask for nothing beyond those.
essential=$(dpkg-query -W -f='${Package} ${Essential}\n' | awk '$2 == "yes" {print $1}')
base=$( (echo "$essential"; for p in $essential; do
  dpkg-query -W -f='${Pre-Depends},${Depends}\n' "$p"; done) | tr ',|' '\n\n' | sed 's/(.*)//; s/:any//; s/ //g' | sort -u)
for dep in $(echo "$depends" | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g'); do
  echo "$base" | grep -qx "$dep" || fail "sealdrop-open depends on $dep, which is not in every Debian (neither Essential nor needed by an Essential package)"
done
for field in Recommends Suggests Pre-Depends; do
  [ -z "$(dpkg-deb -f "$new_open" "$field")" ] || fail "sealdrop-open has $field: the laptop package takes nothing else"
done
# The versions asked for are this Debian 12's (or older).
echo "$depends" | tr ',' '\n' | sed -n 's/^ *\([a-z0-9.+-]*\) *(\(>=\) *\([^)]*\)).*/\1 \3/p' | while read -r pkg need; do
  have=$(dpkg-query -W -f='${Version}' "$pkg")
  dpkg --compare-versions "$have" ge "$need" || fail "$pkg $need wanted, Debian 12 has $have"
done

step "sealdrop-inbox depends on sealdrop-open and Debian 12's GTK 4, nothing that reaches a network"
inbox_depends=$(dpkg-deb -f "$new_inbox" Depends)
echo "Depends: $inbox_depends"
echo "$inbox_depends" | tr ',' '\n' | grep -qE '^ *sealdrop-open \(>= ' || fail "sealdrop-inbox does not depend on sealdrop-open (its sandbox helper)"
echo "$inbox_depends" | grep -qE 'libgtk-4-1' || fail "sealdrop-inbox does not depend on GTK 4"
# No library whose job is the network (GTK's own gio is in libglib2.0-0).
if echo "$inbox_depends" | grep -qE 'libsoup|libcurl|libssl|libgnutls|libnm|libproxy|libwebkit'; then
  fail "sealdrop-inbox depends on a network library: $inbox_depends"
fi
echo "$inbox_depends" | tr ',' '\n' | sed -n 's/^ *\([a-z0-9.+-]*\) *(\(>=\) *\([^)]*\)).*/\1 \3/p' | grep -v '^sealdrop-open ' | while read -r pkg need; do
  have=$(dpkg-query -W -f='${Version}' "$pkg")
  dpkg --compare-versions "$have" ge "$need" || fail "$pkg $need wanted, Debian 12 has $have"
done
for field in Recommends Suggests Pre-Depends; do
  [ -z "$(dpkg-deb -f "$new_inbox" "$field")" ] || fail "sealdrop-inbox has $field"
done

step "what is inside: the embedded dependency lists against the RustSec snapshot"
mkdir -p "$work/x"
dpkg-deb -x "$new_sealdrop" "$work/x"
dpkg-deb -x "$new_open" "$work/x"
dpkg-deb -x "$new_inbox" "$work/x"
# No path of the build machine: the checkouts, the target folder, cargo's home.
for program in "$work/x/usr/bin/sealdrop" "$work/x/usr/bin/sealdrop-open" "$work/x/usr/libexec/sealdrop/sealdrop-sandbox" "$work/x/usr/bin/sealdrop-inbox"; do
  for path in "$repo_root" "$work" "$CARGO_TARGET_DIR" "$(realpath "${CARGO_HOME:-$HOME/.cargo}")" "${RUSTUP_HOME:-$HOME/.rustup}"; do
    if grep -qF -- "$path" "$program"; then fail "$program holds the build machine's path $path"; fi
  done
done
python3 scripts/audit-binaries.py "$work/x/usr/bin/sealdrop" "$work/x/usr/bin/sealdrop-open" \
  "$work/x/usr/libexec/sealdrop/sealdrop-sandbox" "$work/x/usr/bin/sealdrop-inbox"

step "SHA256SUMS signed with minisign, checked with the stock minisign"
minisign -G -W -p "$work/test.pub" -s "$work/test.key" >/dev/null
minisign -S -s "$work/test.key" -m "$work/build1/SHA256SUMS" -t "sealdrop $new_version (test key)" >/dev/null
minisign -V -p "$work/test.pub" -m "$work/build1/SHA256SUMS"
(cd "$work/build1" && sha256sum -c SHA256SUMS)
cp "$work/build1/SHA256SUMS" "$work/tampered" && cp "$work/build1/SHA256SUMS.minisig" "$work/tampered.minisig"
echo "$(printf '%064d' 0)  sealdrop_9.9.9-1_amd64.deb" >> "$work/tampered"
if minisign -V -p "$work/test.pub" -m "$work/tampered" >/dev/null 2>&1; then fail "minisign accepted a changed SHA256SUMS"; fi

step "install the older version"
dpkg -i "$old_sealdrop" "$old_open"
id sealdrop >/dev/null || fail "no sealdrop user"
[ "$(stat -c '%a %U' /var/lib/sealdrop/store)" = "700 sealdrop" ] || fail "store folder: $(stat -c '%a %U' /var/lib/sealdrop/store)"
[ "$(stat -c '%a %U %G' /etc/sealdrop/sealdrop.toml)" = "640 root sealdrop" ] || fail "config: $(stat -c '%a %U %G' /etc/sealdrop/sealdrop.toml)"
[ "$(stat -c '%a %U' /usr/libexec/sealdrop/sealdrop-sandbox)" = "711 root" ] || fail "sandbox helper: $(stat -c '%a %U' /usr/libexec/sealdrop/sealdrop-sandbox)"
for program in /usr/bin/sealdrop /usr/bin/sealdrop-open /usr/libexec/sealdrop/sealdrop-sandbox; do
  "$program" --version | tee /dev/stderr | grep -q "commit $commit" || fail "$program --version does not name $commit"
done
grep -qx 'ExecStart=/usr/bin/sealdrop serve --config /etc/sealdrop/sealdrop.toml' /lib/systemd/system/sealdrop.service

unit_line() { sed -n "s/^$1=//p" /lib/systemd/system/sealdrop.service; }
# As the unit runs its commands: User=/Group= sealdrop, UMask 0077, the
# RuntimeDirectory made (0750), RUNTIME_DIRECTORY set.
as_unit() {
  install -d -m 0750 -o sealdrop -g sealdrop /run/sealdrop
  (umask 0077; exec setpriv --reuid=sealdrop --regid=sealdrop --init-groups \
    env -i PATH=/usr/bin:/bin RUNTIME_DIRECTORY=/run/sealdrop "$@")
}
start_server() {
  # shellcheck disable=SC2046
  as_unit $(unit_line ExecCondition) || fail "ExecCondition refused to start a set-up server"
  # shellcheck disable=SC2046
  run_server $(unit_line ExecStart)
}
run_server() {
  # The sockets and the pass record of a server that ran before stay in
  # /run/sealdrop (RuntimeDirectoryPreserve): only new ones say this one is up.
  rm -f /run/sealdrop/source.sock /run/sealdrop/pickup.sock /run/sealdrop/private/last-pass.json
  install -d -m 0750 -o sealdrop -g sealdrop /run/sealdrop
  # One subshell that becomes the server (exec all the way down), so that
  # $! is the server's own pid and stop_server stops the server itself.
  (umask 0077; exec setpriv --reuid=sealdrop --regid=sealdrop --init-groups \
    env -i PATH=/usr/bin:/bin RUNTIME_DIRECTORY=/run/sealdrop "$@") > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    # Up, and its start-up maintenance pass recorded (sealdrop status reads it).
    [ -S /run/sealdrop/source.sock ] && [ -S /run/sealdrop/pickup.sock ] \
      && [ -f /run/sealdrop/private/last-pass.json ] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; fail "server exited"; }
    sleep 0.1
  done
  cat "$work/server.log"; fail "server did not come up"
}
submit() {
  local answer
  answer=$(curl -sS --unix-socket /run/sealdrop/source.sock -o "$work/answer.html" -w '%{http_code}' \
    -F "message=$1" -F "attachment=@$repo_root/keys.example;filename=notes.txt" http://drop/submit)
  [ "$answer" = 200 ] || { cat "$work/answer.html" "$work/server.log"; fail "submission answered $answer"; }
}
status_field() { python3 -c "import json,sys; r=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

step "before setup: the unit's ExecCondition refuses, status says broken"
# shellcheck disable=SC2046
if as_unit $(unit_line ExecCondition) 2> "$work/condition.err"; then fail "ExecCondition let a server without keys start"; fi
grep -q "not set up yet" "$work/condition.err" || fail "ExecCondition did not say why: $(cat "$work/condition.err")"
set +e; sealdrop status > "$work/status.txt"; code=$?; set -e
[ "$code" = 2 ] || { cat "$work/status.txt"; fail "status before setup exited $code, not 2"; }

step "sealdrop setup from an answer file"
cp /etc/tor/torrc "$work/torrc.orig"
sealdrop-open keygen -o "$work/newsroom.key" > "$work/newsroom.pub"
sed -e "s|^recipients = .*|recipients = [\"$(cat "$work/newsroom.pub")\"]|" \
    -e "s|^pickup_token_file = .*|pickup_token_file = \"$work/pickup.token\"|" \
    -e 's|^wait_for_onion = .*|wait_for_onion = "0s"|' \
    /usr/share/sealdrop/setup-answers.toml > "$work/answers.toml"
set +e; sealdrop setup --answers "$work/answers.toml" | tee "$work/setup1.txt"; code=${PIPESTATUS[0]}; set -e
# Everything but the onion address, which needs tor started with the new config.
[ "$code" = 1 ] || fail "first setup exited $code (1: the onion address is still missing)"
grep -q "onion address" "$work/setup1.txt"
[ "$(stat -c %a "$work/pickup.token")" = 600 ] || fail "token file mode"
grep -qx '%include /etc/tor/torrc.d/\*.conf' /etc/tor/torrc || fail "no %include in /etc/tor/torrc"
getent group sealdrop | grep -q debian-tor || fail "debian-tor not in the group sealdrop"
tor --verify-config --defaults-torrc /usr/share/tor/tor-service-defaults-torrc -f /etc/tor/torrc | tail -n 1 | grep -qx "Configuration was valid"

step "tor makes the onion addresses; setup again finds everything in place"
install -d -m 02755 -o debian-tor -g debian-tor /run/tor
tor --defaults-torrc /usr/share/tor/tor-service-defaults-torrc -f /etc/tor/torrc \
  --DisableNetwork 1 --RunAsDaemon 0 --Log "notice stderr" > /dev/null 2> "$work/tor.log" &
tor_pid=$!
sed -i 's|^wait_for_onion = .*|wait_for_onion = "60s"|' "$work/answers.toml"
sealdrop setup --answers "$work/answers.toml" | tee "$work/setup2.txt" \
  || { cat "$work/tor.log"; fail "second setup: something still missing"; }
grep -q "The drop's onion address (publish this one): http://[a-z2-7]\{56\}\.onion/" "$work/setup2.txt"

step "start the older version as its unit does; submit; status"
start_server
setpriv --reuid=debian-tor --regid=debian-tor --init-groups \
  curl -sS -o /dev/null --unix-socket /run/sealdrop/source.sock http://drop/ || fail "tor's user cannot reach the source socket"
submit "Before the upgrade: the mayor's contracts"
sealdrop status --json > "$work/status.json" || { cat "$work/status.json"; fail "status is not fine after setup"; }
[ "$(status_field "r['census']['last_pass'] is not None" < "$work/status.json")" = True ] || fail "no maintenance pass recorded"
[ "$(status_field "r['census']['counted']" < "$work/status.json")" = pass ] || fail "status counted live without --live"
sealdrop status --json --live > "$work/status-live.json" || { cat "$work/status-live.json"; fail "status --live"; }
[ "$(status_field "r['census']['inboxes'][0]['waiting']" < "$work/status-live.json")" = 1 ] || fail "status --live does not count the waiting submission"
grep -rqs "contracts" /run/sealdrop && fail "the runtime folder holds plaintext"
stop_server

step "upgrade through a signed apt repository (file:)"
export GNUPGHOME="$work/gnupg"
install -d -m 0700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key "sealdrop test archive <test@sealdrop.invalid>" ed25519 sign never 2>/dev/null
key=$(gpg --batch --list-keys --with-colons | awk -F: '/^fpr/ {print $10; exit}')
scripts/publish-apt-repo.sh "$work/apt-repo" "$key" "$new_sealdrop" "$new_open" "$new_inbox"
# apt's lists and caches of this repository stay in the work folder: the
# machine's own apt state is not touched.
mkdir -p "$work/apt-lists/partial" "$work/apt-cache/archives/partial"
apt_options=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/nonexistent
  -o "Dir::State::Lists=$work/apt-lists" -o "Dir::Cache=$work/apt-cache")
echo "deb [signed-by=$work/apt-repo/sealdrop-archive-keyring.gpg] file:$work/apt-repo stable main" > "$work/sources.list"
apt-get "${apt_options[@]}" update
apt-get "${apt_options[@]}" install -y sealdrop sealdrop-open
[ "$(dpkg-query -W -f='${Version}' sealdrop)" = "$new_version" ] || fail "not upgraded"
# The editors' inbox from the same repository, on the laptop's package.
apt-get "${apt_options[@]}" install -y sealdrop-inbox
/usr/bin/sealdrop-inbox --version | tee /dev/stderr | grep -q "commit $commit" || fail "sealdrop-inbox --version does not name $commit"
[ -f /usr/share/applications/org.sealdrop.Inbox.desktop ] || fail "no menu entry for the inbox"
# As an editor (not root): the installed helper runs the inbox's picture job.
setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin HOME=/nonexistent \
  /usr/bin/sealdrop-inbox --self-check || fail "sealdrop-inbox --self-check failed with the installed helper"
# Started as an editor starts it from the menu, on a virtual display: it
# makes its workspace and finds the sandbox helper sealdrop-open installed
# in /usr/libexec (none beside /usr/bin/sealdrop-inbox).
install -d -m 0700 "$work/editor"
(cd / && HOME="$work/editor" timeout 20 xvfb-run -a dbus-run-session -- sh -c \
  '/usr/bin/sealdrop-inbox & app=$!; for _ in $(seq 1 100); do [ -f "$HOME/sealdrop-inbox/.trackerignore" ] && break; sleep 0.1; done; sleep 2; kill $app; wait $app') \
  > "$work/inbox.log" 2>&1 || true
[ -d "$work/editor/sealdrop-inbox/.sealdrop-inbox" ] || { cat "$work/inbox.log"; fail "the installed inbox made no workspace"; }
# The window's own start runs the same check; a failure is printed there.
if grep -q "sealdrop-inbox: " "$work/inbox.log"; then cat "$work/inbox.log"; fail "the installed inbox refused to start"; fi
# A repository signed by anyone else is refused.
cp -r "$work/apt-repo" "$work/forged-repo"
gpg --batch --passphrase '' --quick-gen-key "forger <forger@example.invalid>" ed25519 sign never 2>/dev/null
forger=$(gpg --batch --list-keys --with-colons forger | awk -F: '/^fpr/ {print $10; exit}')
gpg --batch --yes --local-user "$forger" --clearsign -o "$work/forged-repo/dists/stable/InRelease" "$work/forged-repo/dists/stable/Release"
chmod -R a+rX "$work/forged-repo"
echo "deb [signed-by=$work/apt-repo/sealdrop-archive-keyring.gpg] file:$work/forged-repo stable main" > "$work/sources-forged.list"
mkdir -p "$work/apt-lists-forged/partial"
if apt-get -o "Dir::Etc::sourcelist=$work/sources-forged.list" -o Dir::Etc::sourceparts=/nonexistent \
    -o "Dir::State::Lists=$work/apt-lists-forged" -o "Dir::Cache=$work/apt-cache" update > "$work/forged.log" 2>&1; then
  cat "$work/forged.log"; fail "apt accepted a repository signed by another key"
fi
grep -q "NO_PUBKEY\|not signed\|invalid" "$work/forged.log" || { cat "$work/forged.log"; fail "apt refused for another reason"; }
unset GNUPGHOME

step "the new version picks up what waited across the upgrade"
start_server
sealdrop pickup --from unix:/run/sealdrop/pickup.sock --token-file "$work/pickup.token" --to "$work/inbox"
sealdrop-open decrypt -i "$work/newsroom.key" -o "$work/opened" "$work/inbox"
grep -rqx "Before the upgrade: the mayor's contracts" "$work/opened" || fail "the submission did not survive the upgrade"
sealdrop status --json --live > "$work/status.json" || true
[ "$(status_field "sum(i['waiting'] for i in r['census']['inboxes'])" < "$work/status.json")" = 0 ] || fail "status --live still counts what was picked up"
submit "After the upgrade, for the purge test"
stop_server
kill "$tor_pid"; wait "$tor_pid" 2>/dev/null || true; tor_pid=

step "remove keeps config and store; purge keeps the store and says so"
dpkg --purge sealdrop-inbox
dpkg --remove sealdrop
[ -f /etc/sealdrop/sealdrop.toml ] && [ -f /etc/sealdrop/recipients.txt ] || fail "remove deleted the config"
[ "$(find /var/lib/sealdrop/store -name '*.age' | wc -l)" = 1 ] || fail "remove touched the store"
dpkg --purge sealdrop 2>&1 | tee "$work/purge.log"
grep -q "purge kept the store /var/lib/sealdrop" "$work/purge.log" || fail "purge did not say it kept the store"
[ ! -e /etc/sealdrop ] || fail "purge left /etc/sealdrop: $(ls -A /etc/sealdrop)"
[ ! -e /etc/tor/torrc.d/sealdrop.conf ] || fail "purge left tor's fragment"
[ "$(find /var/lib/sealdrop/store -name '*.age' | wc -l)" = 1 ] || fail "purge deleted the store without being asked"
dpkg -i "$new_sealdrop" >/dev/null
echo "SEALDROP_PURGE_DELETES_STORE=yes" > /etc/default/sealdrop
dpkg --purge sealdrop 2>&1 | tee "$work/purge2.log"
grep -q "purge deleted the store" "$work/purge2.log" && [ ! -e /var/lib/sealdrop ] || fail "purge with the setting kept the store"
rm -f /etc/default/sealdrop

step "a hand install (DEPLOY.md before packages) migrates"
# The old guide's layout, with its own config, keys and token, and a
# submission waiting from the hand-installed server.
install -m 0755 "$work/x/usr/bin/sealdrop" /usr/local/bin/sealdrop
sed -e 's#/usr/bin/sealdrop#/usr/local/bin/sealdrop#' -e '/^ExecCondition=/d' \
  "$work/x/lib/systemd/system/sealdrop.service" > /etc/systemd/system/sealdrop.service
install -d -m 0750 -o root -g sealdrop /etc/sealdrop
install -d -m 0700 -o sealdrop -g sealdrop /var/lib/sealdrop /var/lib/sealdrop/store
cp "$work/newsroom.pub" /etc/sealdrop/recipients.txt
hash=$(/usr/local/bin/sealdrop pickup-token --token-file "$work/hand.token" 2>/dev/null | sed -n 's/^pickup_token_sha256 = //p')
sed -e "s|^pickup_token_sha256 = .*|pickup_token_sha256 = $hash|" -e 's|^max_attachments = 50|max_attachments = 20|' \
  "$repo_root/deploy/sealdrop.toml" > /etc/sealdrop/sealdrop.toml
chgrp sealdrop /etc/sealdrop/*; chmod 0640 /etc/sealdrop/*
run_server /usr/local/bin/sealdrop serve --config /etc/sealdrop/sealdrop.toml
submit "Sent to the hand-installed server"
stop_server
dpkg --force-confold -i "$new_sealdrop" "$new_open"
grep -q '^max_attachments = 20' /etc/sealdrop/sealdrop.toml || fail "the hand-made config was replaced"
set +e; sealdrop setup --check > "$work/check.txt"; code=$?; set -e
[ "$code" = 1 ] && grep -q "shadowed by a hand install" "$work/check.txt" && grep -q "dpkg-dist" "$work/check.txt" \
  || { cat "$work/check.txt"; fail "setup --check did not name the hand install's leftovers"; }
cp "$work/torrc.orig" /etc/tor/torrc
# This time as a person answers at the terminal: yes to moving the shadows
# aside, yes to tor's %include (purge took the fragment, tor's config is
# back as Debian ships it); keys and token are kept without a question.
printf 'y\ny\n' | sealdrop setup > "$work/setup3.txt" 2> "$work/setup3.prompts" || true
grep -q "Move them aside" "$work/setup3.prompts" && grep -q "Add the line" "$work/setup3.prompts" \
  || { cat "$work/setup3.prompts"; fail "setup did not ask"; }
grep -qx '%include /etc/tor/torrc.d/\*.conf' /etc/tor/torrc || fail "the consent at the terminal did not add the %include"
[ -e /usr/local/bin/sealdrop.before-package ] && [ ! -e /usr/local/bin/sealdrop ] \
  && [ ! -e /etc/systemd/system/sealdrop.service ] || { cat "$work/setup3.txt"; fail "setup did not move the shadows aside"; }
grep -q "Keys in place" "$work/setup3.txt" && grep -q "Pickup token in place" "$work/setup3.txt" \
  || { cat "$work/setup3.txt"; fail "setup replaced the hand install's keys or token"; }
[ "$(command -v sealdrop)" = /usr/bin/sealdrop ] || fail "PATH still finds $(command -v sealdrop)"
start_server
sealdrop pickup --from unix:/run/sealdrop/pickup.sock --token-file "$work/hand.token" --to "$work/inbox2"
sealdrop-open decrypt -i "$work/newsroom.key" -o "$work/opened2" "$work/inbox2"
grep -rqx "Sent to the hand-installed server" "$work/opened2" || fail "the hand install's submission was lost"
stop_server
echo "packages ok ($((SECONDS - started)) s)"
