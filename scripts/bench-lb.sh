#!/bin/sh
# Measures Flotta's load balancer against httputil.ReverseProxy and nginx in
# front of one static backend with wrk (64 connections), in one run.
# Installs wrk and nginx from Debian's packages when they are missing.
# Usage: scripts/bench-lb.sh [-duration 10s] [-connections 64]
set -eu
cd "$(dirname "$0")/.."
need=""
command -v wrk >/dev/null 2>&1 || need="$need wrk"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need="$need nginx-light"
if [ -n "$need" ]; then
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $need
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
go build -o /tmp/lbbench ./internal/lb/lbbench
exec /tmp/lbbench -nginx "$NGINX" "$@"
