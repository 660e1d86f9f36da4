#!/usr/bin/env bash
# Builds the Debian package, installs it on this machine and checks it the way an admin meets it:
# the binary, `man tikguard-audit`, bash completion, the systemd units (verified, installed
# disabled and not started), the `tikguard` group and the proxy's user, an audit log the group
# reads (the proxy run as its unit runs it), an upgrade to a second build (an edited conffile and
# the services' state kept, running services restarted), config kept by `dpkg -r` and removed by
# `dpkg -P`, and lintian with no errors (accepted warnings: debian/tikguard.lintian-overrides).
#
# Needs root (dpkg -i), cargo-deb, and the packages lintian man-db bash-completion systemd
# logrotate (and util-linux's setpriv and unshare, in Debian's base system).
#
# DEB_PROFILE (default `deb`: release code, stripped) picks the cargo profile the binary is built
# with. CI passes DEB_PROFILE=dev: what this script tests is the packaging, which does not depend
# on the optimisation level, and CI has already built every dependency in the dev profile for the
# tests, so the package costs a link (about 10 s) instead of a second full optimised build (the
# deb profile from scratch: 9m37s on a shared 2-core machine; its package passes this script too).
# cargo-deb strips the binary either way. The upgrade's package is the same binary under the next
# Debian revision (`--deb-version`): about 9 s more.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${DEB_PROFILE:-deb}"
case "$profile" in dev) dir=debug ;; *) dir="$profile" ;; esac
target="${CARGO_TARGET_DIR:-target}"

fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }

if dpkg -s tikguard >/dev/null 2>&1; then
  fail "a tikguard package is already installed here; remove it first (dpkg -P tikguard)"
fi
# This script makes and removes these: never someone's own.
for d in /etc/tikguard-proxy /var/lib/tikguard-proxy /var/log/tikguard-proxy /etc/tikguard-watch /var/lib/tikguard-watch; do
  [ ! -e "$d" ] || fail "$d exists; this script makes and removes it: move it away first"
done

echo "== build (profile $profile)"
cargo build --locked -p tikguard --bin tikguard --profile "$profile"
bin="$target/$dir/tikguard"

# Man pages and completions come from the binary's own clap definitions.
assets="$target/deb-assets"
rm -rf "$assets" && mkdir -p "$assets/man" "$assets/completions"
"$bin" completions --man-pages "$assets/man" >/dev/null
"$bin" completions bash > "$assets/completions/tikguard.bash"
"$bin" completions zsh > "$assets/completions/_tikguard"
"$bin" completions fish > "$assets/completions/tikguard.fish"
[ -s "$assets/man/tikguard-audit.1" ] || fail "no tikguard-audit.1 generated"

echo "== cargo deb"
rm -rf "$target/debian" "$target/deb-next"
# The next Debian revision of the same build, for the upgrade, built first: every cargo deb run
# removes the package's .deb files from target/debian, wherever its -o points.
# cargo deb's version: the crate's, Debian revision 1.
version="$("$bin" --version | sed -n 's/^tikguard \([^ ]*\).*/\1/p')-1"
next="${version%-*}-2"
cargo deb --locked -p tikguard --profile "$profile" --no-build --strip --deb-version "$next" \
  -o "$target/deb-next/" >/dev/null
deb_next="$(ls "$target"/deb-next/tikguard_*.deb)"
cargo deb --locked -p tikguard --profile "$profile" --no-build --strip -o "$target/debian/" >/dev/null
deb="$(ls "$target"/debian/tikguard_*.deb)"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "$deb is not version $version"
[ -f "$deb_next" ] || fail "the second build removed $deb_next"
echo "$deb"
echo "$deb_next"

echo "== lintian"
# --fail-on error: warnings are reported, and the accepted ones are overridden with a reason
# in debian/tikguard.lintian-overrides.
lintian --fail-on error --tag-display-limit 0 "$deb"

# What this script makes besides the package goes when it ends; the proxy's user and the group
# only if they were not here before.
had_user="$(getent passwd tikguard-proxy >/dev/null && echo yes || true)"
had_group="$(getent group tikguard >/dev/null && echo yes || true)"
had_watch_user="$(getent passwd tikguard-watch >/dev/null && echo yes || true)"
work="$(mktemp -d)"
proxy_pid=""
cleanup() {
  if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; fi
  dpkg -P tikguard >/dev/null 2>&1 || true
  rm -rf /etc/tikguard-proxy /var/lib/tikguard-proxy /etc/tikguard-watch /var/lib/tikguard-watch "$work"
  if [ -z "$had_watch_user" ]; then userdel tikguard-watch 2>/dev/null || true; groupdel tikguard-watch 2>/dev/null || true; fi
  if [ -z "$had_user" ]; then userdel tikguard-proxy 2>/dev/null || true; fi
  if [ -z "$had_group" ]; then groupdel tikguard 2>/dev/null || true; fi
}
trap cleanup EXIT

# dpkg, with the maintainer scripts taking their systemd paths as on a machine where systemd
# runs: /run/systemd/system exists (in a private mount namespace: nothing outside sees it), and
# systemctl and deb-systemd-invoke only record how they were called, to the file $1. Where no
# mount namespace can be made, dpkg runs plainly and only the scripts' text is checked.
mkdir -p "$work/shim"
for tool in systemctl deb-systemd-invoke; do
  printf '#!/bin/sh\necho "%s $*" >> "$SHIM_LOG"\n' "$tool" > "$work/shim/$tool"
  chmod +x "$work/shim/$tool"
done
as_if_systemd=""
if unshare -m --propagation private true 2>/dev/null; then as_if_systemd=yes; fi
dpkg_systemd() {
  local calls="$1"; shift
  : > "$calls"
  if [ -n "$as_if_systemd" ]; then
    SHIM_LOG="$calls" PATH="$work/shim:$PATH" unshare -m --propagation private \
      sh -c 'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && exec "$@"' sh "$@"
  else
    echo "test-deb: no mount namespace here: the maintainer scripts' systemd paths are not run"
    "$@"
  fi
}

echo "== dpkg -i"
dpkg_systemd "$work/install.calls" dpkg -i "$deb"
# Installed disabled and not started: no unit is started, restarted or enabled.
if grep -q '^deb-systemd-invoke' "$work/install.calls"; then
  fail "the first install invoked: $(cat "$work/install.calls")"
fi
tikguard --version | grep -q "^tikguard " || fail "tikguard --version"
[ "$(command -v tikguard)" = /usr/bin/tikguard ] || fail "tikguard is not /usr/bin/tikguard"

echo "== man -w tikguard-audit"
page="$(man -w tikguard-audit)" || fail "man -w tikguard-audit"
case "$page" in /usr/share/man/man1/tikguard-audit.1*) ;; *) fail "man page at $page" ;; esac
man tikguard-proxy-run 2>/dev/null | grep -q -- "--config" || fail "man tikguard-proxy-run has no --config"

echo "== bash completion: tikguard au<TAB>"
got="$(bash --norc --noprofile -c '
  . /usr/share/bash-completion/bash_completion
  _completion_loader tikguard 2>/dev/null || __load_completion tikguard
  spec="$(complete -p tikguard)" || exit 1
  fn="$(sed -n "s/.*-F \([^ ]*\) .*/\1/p" <<<"$spec")"
  COMP_WORDS=(tikguard au); COMP_CWORD=1; COMP_LINE="tikguard au"; COMP_POINT=${#COMP_LINE}
  "$fn" tikguard au tikguard
  printf "%s\n" "${COMPREPLY[@]}"
')"
[ "$got" = audit ] || fail "tikguard au<TAB> gave: ${got:-nothing}"
[ -s /usr/share/zsh/vendor-completions/_tikguard ] || fail "no zsh completion"
[ -s /usr/share/fish/vendor_completions.d/tikguard.fish ] || fail "no fish completion"

echo "== examples"
for f in proxy.toml watch.toml; do
  [ -s "/usr/share/doc/tikguard/examples/$f" ] || fail "no example $f"
done
tikguard proxy check --config /usr/share/doc/tikguard/examples/proxy.toml >/dev/null ||
  fail "the shipped proxy example does not load"

echo "== systemd units"
for u in tikguard-proxy tikguard-watch; do
  f="/lib/systemd/system/$u.service"
  [ -f "$f" ] || f="/usr/lib/systemd/system/$u.service"
  [ -f "$f" ] || fail "no $u.service installed"
  systemd-analyze verify "$f" || fail "systemd-analyze verify $f"
  # Shipped disabled: no WantedBy link, so nothing starts before the admin writes the config.
  ! ls /etc/systemd/system/*.wants/"$u.service" >/dev/null 2>&1 || fail "$u is enabled on install"
  grep -q "^EnvironmentFile=-/etc/default/$u" "$f" || fail "$u: no EnvironmentFile"
  grep -q "^StateDirectory=$u" "$f" || fail "$u: no StateDirectory"
done
unit=/lib/systemd/system/tikguard-proxy.service
[ -f "$unit" ] || unit=/usr/lib/systemd/system/tikguard-proxy.service
watch_unit="$(dirname "$unit")/tikguard-watch.service"
# watch: a static user of its own, which reads /etc/tikguard-watch set up as README's quick start
# says (a dynamic user could not: that directory is root's, 0750).
for line in User=tikguard-watch Group=tikguard-watch; do
  grep -qx "$line" "$watch_unit" || fail "tikguard-watch.service has no $line"
done
! grep -q '^DynamicUser=yes' "$watch_unit" || fail "tikguard-watch.service still has DynamicUser"
getent passwd tikguard-watch >/dev/null || fail "no tikguard-watch user"
[ "$(id -gn tikguard-watch)" = tikguard-watch ] || fail "tikguard-watch's group is not its own"
! id -nG tikguard-watch | tr ' ' '\n' | grep -qx tikguard || fail "tikguard-watch is in the tikguard group (the log readers)"
install -d -m 0750 -g tikguard-watch /etc/tikguard-watch
install -m 0640 -g tikguard-watch /usr/share/doc/tikguard/examples/watch.toml /etc/tikguard-watch/watch.toml
install -d -o tikguard-watch -m 0700 /var/lib/tikguard-watch
setpriv --reuid tikguard-watch --regid tikguard-watch --init-groups \
  tikguard watch status --config /etc/tikguard-watch/watch.toml >/dev/null ||
  fail "the tikguard-watch user cannot read /etc/tikguard-watch/watch.toml set up as README says"
setpriv --reuid nobody --regid nogroup --clear-groups cat /etc/tikguard-watch/watch.toml >/dev/null 2>&1 &&
  fail "another user reads /etc/tikguard-watch/watch.toml"
# The proxy: a static user whose group reads its log (a dynamic user's LogsDirectory is under
# /var/log/private, which no group reaches: systemd.exec(5)).
for line in User=tikguard-proxy Group=tikguard LogsDirectory=tikguard-proxy LogsDirectoryMode=0750; do
  grep -qx "$line" "$unit" || fail "tikguard-proxy.service has no $line"
done
getent group tikguard >/dev/null || fail "no tikguard group"
[ "$(id -gn tikguard-proxy)" = tikguard ] || fail "tikguard-proxy's group is not tikguard"
[ "$(stat -c '%U:%G %a' /var/log/tikguard-proxy)" = "tikguard-proxy:tikguard 750" ] ||
  fail "/var/log/tikguard-proxy is $(stat -c '%U:%G %a' /var/log/tikguard-proxy)"

echo "== the audit log: where the unit lets the proxy write, read by the tikguard group"
# The shipped example's log and checkpoint are in the directory the unit grants (LogsDirectory=;
# with ProtectSystem=strict every other path but the StateDirectory is read-only to it).
example=/usr/share/doc/tikguard/examples/proxy.toml
logs="/var/log/$(sed -n 's/^LogsDirectory=//p' "$unit")"
for key in audit-log checkpoint; do
  path="$(sed -n "s/^$key = \"\(.*\)\"/\1/p" "$example")"
  [ "$(dirname "$path")" = "$logs" ] || fail "the example's $key ($path) is not in $logs"
done
# The proxy as the unit runs it (its user and group, UMask=0027) with the files README's quick
# start makes: /etc/tikguard-proxy/* owned by tikguard-proxy, mode 0600, a checkpoint key.
install -d -m 0755 /etc/tikguard-proxy
tikguard proxy keygen /etc/tikguard-proxy/checkpoint.key > "$work/checkpoint.pub" 2>/dev/null
chown tikguard-proxy /etc/tikguard-proxy/checkpoint.key
hash="$(echo crm-pass | tikguard proxy hash-password)"
install -m 0600 -o tikguard-proxy /dev/null /etc/tikguard-proxy/proxy.toml
cat > /etc/tikguard-proxy/proxy.toml <<TOML
[proxy]
audit-log = "$logs/audit.jsonl"
checkpoint = "$logs/audit.head"
checkpoint-key = "/etc/tikguard-proxy/checkpoint.key"

[[router]]
name = "core-01"
address = "127.0.0.1:9"
pin = "sha256:$(printf '%064d' 0)"
user = "proxy"
password-env = "UNUSED"

[[listener]]
address = "127.0.0.1:0"
router = "core-01"

[[client]]
name = "billing"
password-hash = "$hash"
from = ["127.0.0.0/8"]
policy = "monitor"
routers = ["core-01"]
TOML
(umask 0027 && exec setpriv --reuid tikguard-proxy --regid tikguard --init-groups \
  tikguard proxy run --config /etc/tikguard-proxy/proxy.toml) > "$work/proxy.out" 2> "$work/proxy.err" &
proxy_pid=$!
for _ in $(seq 100); do grep -q '^listening' "$work/proxy.out" && break; sleep 0.1; done
port="$(sed -n 's/^listening 127.0.0.1://p' "$work/proxy.out")"
[ -n "$port" ] || fail "the proxy did not start: $(cat "$work/proxy.err")"
# A failed login (the API sentence /login =name=nobody =password=x): a line in the log.
login() { printf '\006/login\014=name=nobody\013=password=x\000' > "/dev/tcp/127.0.0.1/$port"; }
login
for _ in $(seq 100); do [ -s "$logs/audit.jsonl" ] && break; sleep 0.1; done
# The shipped logrotate file, then the reload its postrotate asks systemd for (SIGHUP): the
# proxy starts a new file, continuing the chain, and both verify.
rotated=""
if command -v logrotate >/dev/null; then
  logrotate -f -s "$work/logrotate.state" /etc/logrotate.d/tikguard-proxy ||
    fail "logrotate /etc/logrotate.d/tikguard-proxy"
  rotated="$(ls "$logs"/audit.jsonl-*)" || fail "logrotate did not rotate the log"
  [ ! -e "$logs/audit.jsonl" ] || fail "logrotate created a new log: the proxy would refuse it"
  kill -HUP "$proxy_pid"
  for _ in $(seq 100); do [ -s "$logs/audit.jsonl" ] && break; sleep 0.1; done
  sleep 1.1 # one failed login a second per source is logged
  login
  for _ in $(seq 100); do [ "$(wc -l < "$logs/audit.jsonl")" -ge 2 ] && break; sleep 0.1; done
else
  echo "test-deb: logrotate is not installed: the shipped logrotate file is not run"
fi
kill -TERM "$proxy_pid"
wait "$proxy_pid" || fail "the proxy exited $?: $(cat "$work/proxy.err")"
proxy_pid=""
for f in audit.jsonl audit.head; do
  [ "$(stat -c '%U:%G %a' "$logs/$f")" = "tikguard-proxy:tikguard 640" ] ||
    fail "$logs/$f is $(stat -c '%U:%G %a' "$logs/$f")"
done
grep -q '"decision":"deny"' "$logs/audit.jsonl" || fail "no failed login in the log"
# A member of the group verifies it, with the signed checkpoint; nobody else reads it.
setpriv --reuid nobody --regid nogroup --groups "$(getent group tikguard | cut -d: -f3)" \
  tikguard proxy verify-log "$logs/audit.jsonl" --checkpoint "$logs/audit.head" \
  --public-key "$(cat "$work/checkpoint.pub")" > "$work/verify.out" ||
  fail "a member of tikguard cannot verify the log: $(cat "$work/verify.out")"
grep -q 'signed with the given key' "$work/verify.out" || fail "verify-log: $(cat "$work/verify.out")"
if setpriv --reuid nobody --regid nogroup --clear-groups cat "$logs/audit.jsonl" >/dev/null 2>&1; then
  fail "someone outside the tikguard group reads the log"
fi
if [ -n "$rotated" ]; then
  [ "$(stat -c '%U:%G %a' "$rotated")" = "tikguard-proxy:tikguard 640" ] ||
    fail "$rotated is $(stat -c '%U:%G %a' "$rotated")"
  grep -q '"decision":"continue"' "$logs/audit.jsonl" || fail "the new file does not continue the chain"
  for f in "$rotated" "$logs/audit.jsonl"; do
    tikguard proxy verify-log "$f" --checkpoint "$work/proxy.err" \
      --public-key "$(cat "$work/checkpoint.pub")" > "$work/verify.out" ||
      fail "$f does not verify with the journal's checkpoints: $(cat "$work/verify.out")"
  done
fi

echo "== upgrade to $next: conffiles and state kept, running services restarted"
echo "TIKGUARD_PROXY_CONFIG=/etc/tikguard-proxy/edited.toml" >> /etc/default/tikguard-proxy
install -d -o tikguard-proxy -m 0700 /var/lib/tikguard-proxy
echo kept > /var/lib/tikguard-proxy/state
log_before="$(sha256sum < "$logs/audit.jsonl")"
dpkg_systemd "$work/upgrade.calls" dpkg -i --force-confold "$deb_next"
[ "$(dpkg-query -W -f '${Version}' tikguard)" = "$next" ] || fail "the upgrade did not install $next"
grep -q edited.toml /etc/default/tikguard-proxy || fail "the upgrade replaced the edited conffile"
grep -q kept /var/lib/tikguard-proxy/state || fail "the upgrade lost /var/lib/tikguard-proxy"
[ "$(sha256sum < "$logs/audit.jsonl")" = "$log_before" ] || fail "the upgrade changed the audit log"
[ -f /etc/tikguard-proxy/checkpoint.key ] || fail "the upgrade lost /etc/tikguard-proxy"
# What an upgrade runs (cargo-deb's fragments for restart-after-upgrade = true): the new
# postinst restarts each unit that is running (`try-restart`, when `$2`, the old version, is
# set), and the old prerm stops a unit only on `remove`: the service is restarted once on the
# new binary, not stopped for the length of the upgrade.
dpkg-deb -e "$deb_next" "$work/next.ctl"
for u in tikguard-proxy tikguard-watch; do
  grep -q "deb-systemd-invoke try-restart $u.service" "$work/next.ctl/postinst" ||
    fail "the postinst does not restart $u on upgrade"
  grep -B1 "deb-systemd-invoke stop $u.service" "$work/next.ctl/prerm" | grep -q '"$1" = remove' ||
    fail "the prerm stops $u on more than remove"
  if [ -n "$as_if_systemd" ]; then
    grep -qx "deb-systemd-invoke try-restart $u.service" "$work/upgrade.calls" ||
      fail "the upgrade did not restart $u: $(cat "$work/upgrade.calls")"
  fi
done
if grep -q 'deb-systemd-invoke stop' "$work/upgrade.calls"; then
  fail "the upgrade stopped a service: $(cat "$work/upgrade.calls")"
fi

echo "== conffiles; dpkg -r keeps them, dpkg -P removes them"
conffiles="$(dpkg-query --control-show tikguard conffiles)"
for f in /etc/default/tikguard-proxy /etc/default/tikguard-watch /etc/logrotate.d/tikguard-proxy; do
  grep -qx "$f" <<<"$conffiles" || fail "$f is not a conffile"
done
dpkg -r tikguard
[ ! -e /usr/bin/tikguard ] || fail "dpkg -r left /usr/bin/tikguard"
grep -q edited.toml /etc/default/tikguard-proxy || fail "dpkg -r did not keep the edited config"
dpkg -P tikguard
for f in /etc/default/tikguard-proxy /etc/default/tikguard-watch /etc/logrotate.d/tikguard-proxy \
  /var/log/tikguard-proxy; do
  [ ! -e "$f" ] || fail "dpkg -P left $f"
done
cleanup
trap - EXIT
echo "test-deb: ok"
