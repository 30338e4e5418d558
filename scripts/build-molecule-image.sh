#!/usr/bin/env bash
# Build the Debian 12 image that Molecule boots with systemd as PID 1:
# localhost/logweave-debian12-systemd:latest, made with debootstrap and `podman import`,
# so no image registry is needed.
#
# Usage: scripts/build-molecule-image.sh [--force]
#
#   --force   rebuild even when the image already exists
#   ARCH      Debian architecture to build (default: the host's, from dpkg). ARCH=arm64 on an
#             amd64 host builds a Raspberry Pi image; debootstrap and the image both need
#             qemu-user-static registered with binfmt_misc to run arm64 binaries.
#   MIRROR, SECURITY_MIRROR
#             Debian archive and security archive to use. By default they are read from the
#             host's apt sources (the bookworm and bookworm-security entries).
#
# Runs as root (debootstrap needs it). Podman reads molecule/containers.conf unless
# CONTAINERS_CONF is already set.
set -euo pipefail

readonly IMAGE=localhost/logweave-debian12-systemd:latest
readonly SUITE=bookworm

# What Ansible and the tests need on top of minbase: systemd as init, python3 and python3-apt
# for the modules, sudo for become, logger (bsdutils) for end-to-end log lines.
readonly PACKAGES=(
  systemd systemd-sysv dbus
  python3 python3-apt sudo
  iproute2 procps ca-certificates gnupg
  bsdutils util-linux less
)

# Unprivileged on this host every stock unit either starts or is skipped by its own conditions,
# and udev is not installed. These are masked for the other ways Molecule may run the image.
readonly MASKED_UNITS=(
  # With --tty the getty generator puts a login prompt on the container console.
  getty.target
  console-getty.service
  # With --privileged these mount the host kernel's debug, trace and FUSE file systems.
  sys-kernel-config.mount
  sys-kernel-debug.mount
  sys-kernel-tracing.mount
  sys-fs-fuse-connections.mount
  dev-hugepages.mount
)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$repo_root/molecule/containers.conf}"

rootfs=""

main() {
  local force=false
  case "${1:-}" in
    --force) force=true ;;
    "") ;;
    *) die "unknown argument '$1'; usage: $0 [--force]" ;;
  esac

  local arch="${ARCH:-$(dpkg --print-architecture)}"

  # One tag serves every architecture, so an image built for another ARCH is rebuilt.
  local previous_id=""
  if podman image exists "$IMAGE"; then
    local built_arch
    built_arch=$(podman image inspect --format '{{.Architecture}}' "$IMAGE")
    if ! $force && [[ $built_arch == "$arch" ]]; then
      echo "$IMAGE ($arch) exists; nothing to do (use --force to rebuild)"
      return 0
    fi
    previous_id=$(podman image inspect --format '{{.Id}}' "$IMAGE")
  fi

  check_prerequisites "$arch"

  local mirror security_mirror
  mirror="${MIRROR:-$(host_mirror_for "$SUITE")}"
  security_mirror="${SECURITY_MIRROR:-$(host_mirror_for "$SUITE-security")}"
  [[ -n $mirror ]] || die "no '$SUITE' entry in the host's apt sources; set MIRROR=http://..."

  local started=$SECONDS
  rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/logweave-rootfs.XXXXXX")
  trap remove_rootfs EXIT

  echo "debootstrap $SUITE ($arch) from $mirror into $rootfs"
  bootstrap "$arch" "$mirror"
  prepare_for_container
  write_apt_sources "$mirror" "$security_mirror"
  trim
  import_image "$arch"
  # The replaced image is left untagged; drop it unless a container still uses it.
  if [[ -n $previous_id ]]; then
    podman image rm "$previous_id" >/dev/null 2>&1 || true
  fi

  local size
  size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
  echo "built $IMAGE: $(numfmt --to=si --round=nearest --suffix=B "$size") in $((SECONDS - started))s"
}

check_prerequisites() {
  local arch=$1
  [[ $EUID -eq 0 ]] || die "debootstrap needs root; run with sudo"
  local tool
  for tool in debootstrap podman numfmt; do
    command -v "$tool" >/dev/null || die "'$tool' is missing; apt-get install $tool"
  done

  case "$arch" in
    amd64 | arm64) ;;
    *) die "ARCH=$arch: only amd64 and arm64 are built" ;;
  esac
  if [[ $arch != "$(dpkg --print-architecture)" ]]; then
    local qemu_name=${arch/arm64/aarch64}
    [[ -e /proc/sys/fs/binfmt_misc/qemu-$qemu_name ]] ||
      die "ARCH=$arch needs qemu-user-static registered for $qemu_name (apt-get install qemu-user-static binfmt-support)"
  fi
}

# Ask apt itself, so deb822 and one-line sources files are both understood. A Raspberry Pi OS
# host also has archive.raspberrypi.com for bookworm; the Origin from the fetched Release file
# tells the Debian archive apart, and a host that never ran apt-get update falls back to the
# first entry for the suite.
host_mirror_for() {
  local wanted_suite=$1
  # shellcheck disable=SC2016 # $(...) is apt's format syntax, not a shell expansion
  apt-get indextargets --format '$(RELEASE) $(REPO_URI) $(ORIGIN)' 'Created-By: Packages' |
    awk -v suite="$wanted_suite" '
      $1 != suite { next }
      $3 == "Debian" { print $2; found = 1; exit }
      first == "" { first = $2 }
      END { if (!found && first != "") print first }'
}

bootstrap() {
  local arch=$1 mirror=$2
  local include
  include=$(IFS=,; echo "${PACKAGES[*]}")
  debootstrap --variant=minbase --arch="$arch" --include="$include" \
    "$SUITE" "$rootfs" "$mirror"
}

prepare_for_container() {
  # Empty, not missing: at boot systemd fills it from the container_uuid podman passes,
  # so each test container has its own id and none is baked into the image.
  : >"$rootfs/etc/machine-id"
  rm -f "$rootfs/var/lib/dbus/machine-id"

  local unit
  for unit in "${MASKED_UNITS[@]}"; do
    ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
  done

  # Packages installed later by the roles should not bring documentation or message
  # translations back; tests read the English messages anyway.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/logweave-slim" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
EOF
}

write_apt_sources() {
  local mirror=$1 security_mirror=$2
  rm -f "$rootfs/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\n' "$mirror" "$SUITE" "$SUITE"
    printf 'Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [[ -n $security_mirror ]]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\n' "$security_mirror" "$SUITE"
      printf 'Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } >"$rootfs/etc/apt/sources.list.d/debian.sources"
}

trim() {
  rm -rf "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/var/log/*.log \
    "$rootfs"/usr/share/man/* \
    "$rootfs"/usr/share/info/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias \
    -exec rm -rf {} +
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
}

# CMD and STOPSIGNAL let a plain `podman run` boot systemd and `podman stop` shut it down
# cleanly; container= tells systemd where it runs even outside podman's systemd mode.
import_image() {
  local arch=$1
  tar --numeric-owner --xattrs --xattrs-include='*' -C "$rootfs" -c . |
    podman import --quiet --arch "$arch" --os linux \
      --change 'CMD ["/sbin/init"]' \
      --change STOPSIGNAL=SIGRTMIN+3 \
      --change ENV=container=podman \
      --change "LABEL org.opencontainers.image.title=logweave-debian12-systemd" \
      --message "debootstrap $SUITE minbase for LogWeave Molecule" \
      - "$IMAGE" >/dev/null
}

# debootstrap may leave /proc or /sys mounted inside the tree when it fails; unmount them
# first and never let rm cross into another file system.
remove_rootfs() {
  [[ -n $rootfs && -d $rootfs ]] || return 0
  local mount_point
  findmnt --list --noheadings --output TARGET | { grep -F "$rootfs/" || true; } | sort -r |
    while read -r mount_point; do umount --lazy "$mount_point"; done
  rm -rf --one-file-system "$rootfs"
}

die() {
  echo "build-molecule-image: $*" >&2
  exit 1
}

main "$@"
