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

# members BALANCER URLS EXTRA: the balancer with a member for each of URLS.
members() {
  echo "<Proxy \"balancer://$1\">"
  for url in $2; do
    # A member that cannot be reached within 3 s is left out for 5 s (retry), then
    # tried again; its requests go to the other members meanwhile. A connection idle
    # for 1 s is not used again (ttl): gunicorn closes one after 2 s (its keepalive),
    # and a request sent on a connection as it closes would fail.
    echo "  BalancerMember \"$url\" connectiontimeout=3 retry=5 ttl=1$3"
  done
  echo "</Proxy>"
}

{
  for service in "$@"; do
    name=$(printf '%s' "$service" | tr 'a-z-' 'A-Z_')
    eval "urls=\${${name}_URLS:-\${${name}_URL:-}}"
    if [ -z "$urls" ]; then
      echo "balancers.sh: set ${name}_URLS or ${name}_URL to where $service answers" >&2
      exit 2
    fi
    members "$service" "$urls" ""
    if [ "$service" = account ]; then
      # Signing in checks a password, slow by design (httpd.conf sends it here): each
      # Apache process has one connection for it to each member (max=1), and a request
      # that finds none free within 2 s (acquire) is answered 503. A flood of sign-ins
      # then waits in Apache and leaves the account service's threads to everything else.
      members account-sign-in "$urls" " max=1 acquire=2000"
    fi
  done
} > "$file"
