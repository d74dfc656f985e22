#!/bin/sh
# Measures Flotta's DNS server against CoreDNS (file plugin) serving the same
# zone (1,000 A + 100 SRV + 100 TXT records) with dnsperf on 127.0.0.1, in one
# run: queries/s at full load, p50/p99 at a fixed rate, and the ratio.
# Installs dnsperf from Debian's packages when missing and builds CoreDNS
# v1.15.x from the Go module proxy into a temporary directory.
# Usage: scripts/bench-dns.sh [-l 10] [-c 2] [-q 100] [-Q 10000] [-hosts 1000]
set -eu
cd "$(dirname "$0")/.."
if ! command -v dnsperf >/dev/null 2>&1; then
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y dnsperf
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
coredns=${COREDNS:-}
if [ -z "$coredns" ]; then
	version=$(go list -m -versions github.com/coredns/coredns | tr ' ' '\n' | grep '^v1\.15\.' | sort -V | tail -1)
	version=${version:-v1.15.0}
	echo "building CoreDNS $version" >&2
	if ! GOBIN="$tmp/bin" GOFLAGS=-buildvcs=false go install "github.com/coredns/coredns@$version"; then
		# go install refuses modules with replace directives: build it from a
		# tiny module that requires it instead.
		mkdir -p "$tmp/build"
		(cd "$tmp/build" &&
			printf 'module corednsbuild\n\ngo 1.24\n' >go.mod &&
			printf 'package main\n\nimport (\n\t_ "github.com/coredns/coredns/core/plugin"\n\t"github.com/coredns/coredns/coremain"\n)\n\nfunc main() { coremain.Run() }\n' >main.go &&
			go get "github.com/coredns/coredns@$version" &&
			go mod tidy &&
			GOFLAGS=-buildvcs=false go build -o "$tmp/bin/coredns" .)
	fi
	coredns="$tmp/bin/coredns"
fi
go build -o "$tmp/dnsbench" ./internal/dns/dnsbench
"$tmp/dnsbench" -coredns "$coredns" -dnsperf "$(command -v dnsperf)" "$@"
