#!/bin/sh
# deps.sh - install the Debian packages the build and the tests need, only
# those missing (a re-run with everything installed is fast and changes
# nothing). Needs root (or sudo) only when something is missing.
set -eu

pkgs="build-essential pkg-config libfcgi-dev libpq-dev libjson-c-dev
libssl-dev libcmocka-dev libpsl-dev libidn2-dev publicsuffix postgresql nginx-light bind9 bind9-utils
bind9-dnsutils certbot lego python3-acme python3-josepy python3-pytest
python3-requests python3-cryptography curl openssl python3-aiosmtpd
apache2 libapache2-mod-fcgid systemd
clang libclang-rt-dev faketime"

missing=
for p in $pkgs; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$s" = "install ok installed" ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps.sh: all packages installed"
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
