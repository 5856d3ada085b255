#!/bin/sh
# Writes Apache's balancers to FILE (apache/httpd.conf includes it): for each SERVICE
# named, a `<Proxy "balancer://SERVICE">` with a member per address in the variable
# SERVICE_URLS (upper case, space-separated: "http://order-1:8080 http://order-2:8080"),
# or the one in SERVICE_URL where that is not set.
#   balancers.sh FILE SERVICE...
# Apache reads no list from its environment, so the image and `msatom stack` run this
# before it starts.
set -eu
file=$1
shift
{
  for service in "$@"; do
    name=$(printf '%s' "$service" | tr 'a-z-' 'A-Z_')
    eval "urls=\${${name}_URLS:-\${${name}_URL:-}}"
    if [ -z "$urls" ]; then
      echo "balancers.sh: set ${name}_URLS or ${name}_URL to where $service answers" >&2
      exit 2
    fi
    echo "<Proxy \"balancer://$service\">"
    for url in $urls; do
      # A member that cannot be reached within 3 s is left out for 5 s (retry), then
      # tried again; its requests go to the other members meanwhile. A connection idle
      # for 1 s is not used again (ttl): gunicorn closes one after 2 s (its keepalive),
      # and a request sent on a connection as it closes would fail.
      echo "  BalancerMember \"$url\" connectiontimeout=3 retry=5 ttl=1"
    done
    echo "</Proxy>"
  done
} > "$file"
