#!/bin/sh
# deps.sh - the Debian packages `make bench` needs beyond .ci/deps.sh:
# Pebble (the reference server), wrk (newNonce load), libcurl (the load
# generator). Installs only what is missing; a re-run changes nothing.
set -eu

pkgs="pebble wrk libcurl4-openssl-dev"
missing=
for p in $pkgs; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$s" = "install ok installed" ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "bench deps.sh: all packages installed"
	exit 0
fi
echo "bench deps.sh: installing$missing"
sudo=
if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
fi
$sudo apt-get update -q
# shellcheck disable=SC2086 # the list is split on purpose
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends $missing
