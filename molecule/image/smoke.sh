#!/usr/bin/env bash
# Prove the Molecule image does what LogWeave's tests rely on: systemd boots as PID 1 in a podman
# container and reaches "running", and it enforces a sandboxed Type=notify unit's watchdog.
#
# Usage: molecule/image/smoke.sh   (as root, after scripts/build-molecule-image.sh)
#
# Every podman call and wait has its own time limit (a passing run takes under 10 s) and the
# container is removed on every exit.
set -euo pipefail

readonly IMAGE=localhost/logweave-debian12-systemd:latest
readonly PROBE_UNIT=logweave-watchdog-probe.service
readonly BOOT_TIMEOUT=60
readonly RESTART_TIMEOUT=30
readonly EXEC_TIMEOUT=20

# The same flags the Molecule platform passes.
readonly RUN_FLAGS=(
  # systemd as PID 1: podman also mounts tmpfs on /run, /run/lock, /tmp and /var/log/journal and
  # a writable name=systemd cgroup, so none of those need their own flag.
  --systemd=always
  --network=host
  # Sandboxing (ProtectSystem=, PrivateTmp=, DynamicUser=) makes a mount namespace per unit;
  # without this capability such units fail with status=226/NAMESPACE.
  --cap-add=SYS_ADMIN
  --hostname=logweave-smoke
)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$repo_root/molecule/containers.conf}"

container="logweave-image-smoke-$$"

main() {
  podman image exists "$IMAGE" || fail "$IMAGE is missing; run scripts/build-molecule-image.sh"

  local started=$SECONDS
  trap remove_container EXIT
  timeout "$EXEC_TIMEOUT" podman run --detach --name "$container" "${RUN_FLAGS[@]}" "$IMAGE" >/dev/null

  wait_for_boot
  install_probe_unit
  expect_watchdog_restart
  expect_security_analysis
  echo "smoke: passed in $((SECONDS - started))s"
}

wait_for_boot() {
  local deadline=$((SECONDS + BOOT_TIMEOUT)) state=""
  # systemctl cannot reach PID 1 for the first instant, so a failed call is retried.
  while ((SECONDS < deadline)); do
    state=$(in_container systemctl is-system-running --wait 2>/dev/null) || true
    case "$state" in
      running)
        echo "boot: $(in_container cat /proc/1/comm) is PID 1, system $state"
        return 0
        ;;
      degraded) fail "boot: system degraded; failed units are listed below" ;;
    esac
    sleep 1
  done
  fail "boot: system not running after ${BOOT_TIMEOUT}s (last state '${state:-none}')"
}

# Sends READY=1 with the stdlib only, then sleeps without ever sending WATCHDOG=1, so systemd
# must kill it after WatchdogSec and restart it. The hardening lines are a sample of what
# LogWeave units carry, to prove the sandbox works in the container too.
install_probe_unit() {
  timeout "$EXEC_TIMEOUT" podman exec --interactive "$container" \
    sh -c "cat >/etc/systemd/system/$PROBE_UNIT" <<'EOF'
[Unit]
Description=LogWeave image smoke: notify service that stops pinging its watchdog

[Service]
Type=notify
ExecStart=/usr/bin/python3 -c 'import os, socket, time; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.connect(os.environ["NOTIFY_SOCKET"]); s.send(b"READY=1"); time.sleep(3600)'
WatchdogSec=3
Restart=on-failure
RestartSec=1
DynamicUser=yes
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
EOF
  in_container systemctl daemon-reload
  # For Type=notify, start returns only once READY=1 has arrived.
  in_container systemctl start "$PROBE_UNIT" || fail "probe: $PROBE_UNIT did not become ready"
  echo "probe: $PROBE_UNIT ready"
}

expect_watchdog_restart() {
  local deadline=$((SECONDS + RESTART_TIMEOUT)) journal=""
  # The restart line is the last of the sequence, so once it is in the journal the rest is too.
  while ((SECONDS < deadline)); do
    journal=$(in_container journalctl --unit="$PROBE_UNIT" --output=short-iso --no-pager)
    grep -qF 'restart counter is at 1' <<<"$journal" && break
    sleep 1
  done

  grep -F 'Watchdog timeout' <<<"$journal" || fail "watchdog: no 'Watchdog timeout' in the journal"
  grep -F "Failed with result 'watchdog'" <<<"$journal" ||
    fail "watchdog: the unit did not fail with result 'watchdog'"
  grep -F 'restart counter is at 1' <<<"$journal" ||
    fail "watchdog: $PROBE_UNIT not restarted within ${RESTART_TIMEOUT}s"

  local restarts
  restarts=$(in_container systemctl show --property=NRestarts --value "$PROBE_UNIT")
  echo "watchdog: $PROBE_UNIT killed and restarted (NRestarts=$restarts)"
}

expect_security_analysis() {
  local report
  report=$(in_container systemd-analyze security --no-pager "$PROBE_UNIT") ||
    fail "security: systemd-analyze security failed for $PROBE_UNIT"
  grep -F 'Overall exposure level' <<<"$report" ||
    fail "security: no exposure level in the systemd-analyze report"
}

in_container() {
  timeout "$EXEC_TIMEOUT" podman exec "$container" "$@"
}

# Shows what an operator needs to see why the check failed, then stops the run.
fail() {
  echo "smoke: FAILED: $*" >&2
  if podman container exists "$container"; then
    in_container systemctl --failed --no-pager >&2 || true
    in_container journalctl --boot --priority=warning --no-pager --lines=40 >&2 || true
    in_container journalctl --unit="$PROBE_UNIT" --no-pager --lines=40 >&2 || true
  fi
  exit 1
}

remove_container() {
  podman rm --force --time 5 "$container" >/dev/null 2>&1 || true
}

main "$@"
