#!/usr/bin/env bash
# The Debian packages LogWeave's demo and tests need on a fresh Debian 12 machine (as root).
# `make demo` and .ci/run call it; safe to run again: installed packages are skipped.
set -euo pipefail

packages=(
  postgresql-15            # the tests' throwaway PostgreSQL clusters (initdb, pg_ctl)
  rsyslog                  # the real syslog front end the end-to-end tests feed
  openjdk-17-jre-headless  # runs the Kafka broker
  maven                    # fetches Kafka's jars from Maven Central
  ieee-data                # the MAC vendor list the parsers read
  util-linux               # setpriv, to run PostgreSQL unprivileged
  procps iproute2
  podman runc debootstrap uidmap fuse-overlayfs slirp4netns  # the systemd containers
  python3-venv
)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $EUID -ne 0 ]]; then
  echo "install-deps: missing Debian packages: ${missing[*]}; run as root (or apt-get install them)" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
