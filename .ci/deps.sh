#!/bin/sh
# deps.sh - install the Debian packages the build and the tests need, only
# those missing (a re-run with everything installed is fast and changes
# nothing), then the browser tests' Node.js packages (tests/browser, npm ci,
# when node_modules is missing or older than package-lock.json). Needs root
# (or sudo) only when a Debian package is missing.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)

# The browser tests (tests/browser): playwright-core from the npm registry,
# at the version package-lock.json pins, driving Debian's Chromium.
browser_deps() {
	dir="$here/tests/browser"
	stamp="$dir/node_modules/.package-lock.json"
	if [ -f "$stamp" ] && [ ! "$dir/package-lock.json" -nt "$stamp" ] &&
	    [ -d "$dir/node_modules/playwright-core" ]; then
		echo "deps.sh: tests/browser node modules installed"
		return 0
	fi
	echo "deps.sh: npm ci in tests/browser"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

pkgs="build-essential pkg-config libfcgi-dev libpq-dev libjson-c-dev
libssl-dev libcmocka-dev libpsl-dev libidn2-dev publicsuffix postgresql nginx-light bind9 bind9-utils
bind9-dnsutils certbot lego python3-acme python3-josepy python3-pytest
python3-requests python3-cryptography curl openssl python3-aiosmtpd
apache2 libapache2-mod-fcgid systemd
clang libclang-rt-dev faketime chromium fonts-dejavu-core"

missing=
for p in $pkgs; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$s" = "install ok installed" ] || missing="$missing $p"
done
# Node.js and npm: the machine's own (Node.js 20 or later, which
# playwright-core needs) if there is one, else Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1
then
	missing="$missing nodejs npm"
fi
if [ -z "$missing" ]; then
	echo "deps.sh: all packages installed"
	browser_deps
	exit 0
fi
echo "deps.sh: installing$missing"

sudo=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps.sh: missing packages:$missing (run as root)" >&2
		exit 1
	}
	sudo="sudo"
fi

# The tests start their own PostgreSQL, BIND and nginx: keep the packages'
# scripts from starting the system services (a policy-rc.d of our own, only
# if there is none, removed afterwards).
policy=/usr/sbin/policy-rc.d
ours=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 755 "$policy"
	ours=1
fi
cleanup() {
	if [ -n "$ours" ]; then
		$sudo rm -f "$policy"
	fi
}
trap cleanup EXIT INT TERM

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086 # the list is split on purpose
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends $missing
browser_deps
