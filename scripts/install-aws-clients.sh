#!/usr/bin/env bash
# Installs the clients many users run, from Debian's packages: the AWS CLI
# (awscli 2.9) and boto3 (python3-boto3 1.26), which internal/e2e's tests
# drive against a running server, and dig (dnsutils), which the service
# discovery tests ask Flotta's DNS server with. Idempotent; needs root (or
# sudo) and Debian's package mirrors.
set -euo pipefail

have() { [ -x /usr/bin/aws ] && [ -x /usr/bin/dig ] && /usr/bin/python3 -c 'import boto3' 2>/dev/null; }
if have; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends awscli python3-boto3 dnsutils >/dev/null
have
/usr/bin/aws --version
