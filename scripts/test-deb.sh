#!/usr/bin/env bash
# Builds the Debian package, installs it on this machine and checks it the way an admin meets it:
# the binary, `man tikguard-audit`, bash completion, the systemd units (verified, installed
# disabled and not started), the `tikguard` group, config kept by `dpkg -r` and removed by
# `dpkg -P`, and lintian with no errors (accepted warnings: debian/tikguard.lintian-overrides).
#
# Needs root (dpkg -i), cargo-deb, and the packages lintian man-db bash-completion systemd.
#
# DEB_PROFILE (default `deb`: release code, stripped) picks the cargo profile the binary is built
# with. CI passes DEB_PROFILE=dev: what this script tests is the packaging, which does not depend
# on the optimisation level, and CI has already built every dependency in the dev profile for the
# tests, so the package costs a link (about 10 s) instead of a second full optimised build (the
# deb profile from scratch: 9m37s on a shared 2-core machine; its package passes this script too).
# cargo-deb strips the binary either way.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${DEB_PROFILE:-deb}"
case "$profile" in dev) dir=debug ;; *) dir="$profile" ;; esac
target="${CARGO_TARGET_DIR:-target}"

fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }

if dpkg -s tikguard >/dev/null 2>&1; then
  fail "a tikguard package is already installed here; remove it first (dpkg -P tikguard)"
fi

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
rm -rf "$target/debian"
cargo deb --locked -p tikguard --profile "$profile" --no-build --strip -o "$target/debian/" >/dev/null
deb="$(ls "$target"/debian/tikguard_*.deb)"
echo "$deb"

echo "== lintian"
# --fail-on error: warnings are reported, and the accepted ones are overridden with a reason
# in debian/tikguard.lintian-overrides.
lintian --fail-on error --tag-display-limit 0 "$deb"

cleanup() { dpkg -P tikguard >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "== dpkg -i"
dpkg -i "$deb"
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
  grep -q '^DynamicUser=yes' "$f" || fail "$u: no DynamicUser"
  grep -q "^EnvironmentFile=-/etc/default/$u" "$f" || fail "$u: no EnvironmentFile"
  grep -q "^StateDirectory=$u" "$f" || fail "$u: no StateDirectory"
done
getent group tikguard >/dev/null || fail "no tikguard group"
[ "$(stat -c '%U:%G %a' /var/log/tikguard-proxy)" = "root:tikguard 3770" ] ||
  fail "/var/log/tikguard-proxy is $(stat -c '%U:%G %a' /var/log/tikguard-proxy)"

echo "== conffiles; dpkg -r keeps them, dpkg -P removes them"
conffiles="$(dpkg-query --control-show tikguard conffiles)"
for f in /etc/default/tikguard-proxy /etc/default/tikguard-watch; do
  grep -qx "$f" <<<"$conffiles" || fail "$f is not a conffile"
done
echo "TIKGUARD_PROXY_CONFIG=/etc/tikguard-proxy/edited.toml" >> /etc/default/tikguard-proxy
dpkg -r tikguard
[ ! -e /usr/bin/tikguard ] || fail "dpkg -r left /usr/bin/tikguard"
grep -q edited.toml /etc/default/tikguard-proxy || fail "dpkg -r did not keep the edited config"
dpkg -P tikguard
for f in /etc/default/tikguard-proxy /etc/default/tikguard-watch /var/log/tikguard-proxy; do
  [ ! -e "$f" ] || fail "dpkg -P left $f"
done
trap - EXIT
echo "test-deb: ok"
