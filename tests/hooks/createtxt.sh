#!/bin/sh
# createtxt.sh - certbot --manual-auth-hook for dns-01: publish the TXT record
# _acme-challenge.$CERTBOT_DOMAIN with nsupdate, as in the CA's documentation.
#
# certbot sets CERTBOT_DOMAIN and CERTBOT_VALIDATION; the DNS server is taken
# from the environment (tests/stack.py prints and writes these):
#	ACME_DNS_SERVER	name server address (default 127.0.0.1)
#	ACME_DNS_PORT	its port (default 53)
#	ACME_DNS_ZONE	the zone to update (e.g. demo.test)
#	ACME_DNS_KEY	TSIG key file for nsupdate -k (tsig-keygen output)
set -eu

: "${CERTBOT_DOMAIN:?CERTBOT_DOMAIN is not set (run from certbot)}"
: "${CERTBOT_VALIDATION:?CERTBOT_VALIDATION is not set (run from certbot)}"
: "${ACME_DNS_ZONE:?ACME_DNS_ZONE is not set}"
: "${ACME_DNS_KEY:?ACME_DNS_KEY is not set}"
server=${ACME_DNS_SERVER:-127.0.0.1}
port=${ACME_DNS_PORT:-53}
name="_acme-challenge.${CERTBOT_DOMAIN#\*.}"

echo "createtxt: $name TXT $CERTBOT_VALIDATION (zone $ACME_DNS_ZONE at $server:$port)"
nsupdate -k "$ACME_DNS_KEY" <<END
server $server $port
zone $ACME_DNS_ZONE
update add $name. 10 TXT "$CERTBOT_VALIDATION"
send
quit
END
