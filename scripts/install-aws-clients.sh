#!/usr/bin/env bash
# Installs the AWS clients many users run, from Debian's packages: the AWS CLI
# (awscli 2.9) and boto3 (python3-boto3 1.26), which internal/e2e's
# TestAWSCLIAndBoto3 drives against a running server. Idempotent; needs root
# (or sudo) and Debian's package mirrors.
set -euo pipefail

have() { [ -x /usr/bin/aws ] && /usr/bin/python3 -c 'import boto3' 2>/dev/null; }
if have; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends awscli python3-boto3 >/dev/null
have
/usr/bin/aws --version
