#!/bin/sh
# cleantxt.sh - certbot --manual-cleanup-hook for dns-01: remove the TXT
# record createtxt.sh added (only that value: other names' challenges for the
# same record stay). Same environment as createtxt.sh.
set -eu

: "${CERTBOT_DOMAIN:?CERTBOT_DOMAIN is not set (run from certbot)}"
: "${CERTBOT_VALIDATION:?CERTBOT_VALIDATION is not set (run from certbot)}"
: "${ACME_DNS_ZONE:?ACME_DNS_ZONE is not set}"
: "${ACME_DNS_KEY:?ACME_DNS_KEY is not set}"
server=${ACME_DNS_SERVER:-127.0.0.1}
port=${ACME_DNS_PORT:-53}
name="_acme-challenge.${CERTBOT_DOMAIN#\*.}"

echo "cleantxt: $name TXT $CERTBOT_VALIDATION"
nsupdate -k "$ACME_DNS_KEY" <<END
server $server $port
zone $ACME_DNS_ZONE
update delete $name. TXT "$CERTBOT_VALIDATION"
send
quit
END
