#!/usr/bin/env bash
# The LogWeave deployment in a local systemd container, fed real router lines: what `make demo`
# runs after building the image and the Kafka archive.
#
# Usage: scripts/demo-container.sh      (as root; `make venv kafka` and
#                                        scripts/build-molecule-image.sh first)
#
#   1. Starts localhost/logweave-debian12-systemd:latest as the container logweave-local, systemd
#      as PID 1 and this machine's network, replacing an earlier demo container of that name.
#   2. Deploys with the real playbook: ansible-playbook -i inventory/local.yml playbooks/site.yml
#      (after molecule/resources/prepare.yml, which gives the bare image what a host has).
#   3. Sends every line of tests/corpus/*.log as its router would have (TCP), and up to 2000
#      simulated lines from `logweave simulate` (UDP, 1000 a second), to rsyslog on
#      127.0.0.1:514.
#   4. Waits until every line is in raw_logs and the metrics consumer has caught up (or the
#      counts stop changing), says how many arrived, then prints `logweave status` run inside
#      the container.
#
# The container keeps running afterwards; the last lines say how to look at it and remove it.
# Every podman call and wait has its own time limit.
set -euo pipefail

readonly IMAGE=localhost/logweave-debian12-systemd:latest
readonly NAME=logweave-local
# At most this many; `logweave simulate` stops earlier when its simulated day is over.
readonly SIMULATED_LINES=2000
readonly UDP_LINES_PER_S=1000
readonly BOOT_TIMEOUT=60
readonly EXEC_TIMEOUT=60
readonly DEPLOY_TIMEOUT=1800
# raw_logs counts as settled once it has not changed for this long; the whole wait is bounded.
readonly SETTLED_AFTER=5
readonly SETTLE_TIMEOUT=180
# The ports the stack binds on this machine (host networking).
readonly PORTS=(514 5432 9092 9093 10514)

readonly RUN_FLAGS=(
  --systemd=always
  --network=host
  # Sandboxed units need a mount namespace each (status=226/NAMESPACE without it).
  --cap-add=SYS_ADMIN
  --hostname="$NAME"
)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$repo_root/molecule/containers.conf}"
venv="$repo_root/.venv"
# Lines sent to rsyslog (send_lines), the number the consumers should end up with.
sent_lines=0

main() {
  check_prerequisites
  local started=$SECONDS

  start_container
  step "deploy with playbooks/site.yml" deploy
  step "send the corpus and simulated lines" send_lines
  step "wait for the consumers" wait_until_settled

  echo
  echo "== logweave status (inside $NAME) =="
  in_container --env CREDENTIALS_DIRECTORY=/etc/logweave -- \
    /opt/logweave/venv/bin/logweave status --config /etc/logweave/logweave.toml
  echo
  echo "demo: ready in $((SECONDS - started))s; $NAME keeps running. With"
  echo "  export CONTAINERS_CONF=$CONTAINERS_CONF"
  echo "  podman exec -it $NAME journalctl -u logweave-producer -f   the producer's log"
  echo "  podman exec -it $NAME systemctl status 'logweave-*' kafka postgresql rsyslog"
  echo "  podman exec -it $NAME logweave status                      counts and lags again"
  echo "  logger -n 127.0.0.1 -P 514 -d -t test 'hello'   one more line, over UDP"
  echo "  podman rm --force --time 30 $NAME   stop and remove it all"
}

check_prerequisites() {
  [[ $EUID -eq 0 ]] || die "podman with systemd containers needs root; run with sudo"
  command -v podman >/dev/null || die "podman is missing; apt-get install podman runc"
  [[ -x $venv/bin/ansible-playbook ]] || die "$venv has no ansible-playbook; run make venv"
  local archive="$repo_root/var/kafka/kafka_2.13-4.4.0.tgz"
  [[ -f $archive ]] || die "$archive is missing; run make kafka"
  podman image exists "$IMAGE" || die "$IMAGE is missing; run scripts/build-molecule-image.sh"
}

start_container() {
  if podman container exists "$NAME"; then
    echo "removing the earlier $NAME container"
    timeout "$EXEC_TIMEOUT" podman rm --force --time 30 "$NAME" >/dev/null
  fi
  # Anything else on these ports (a Molecule run, a PostgreSQL of this machine) would collide.
  local busy
  busy=$(ss -Hltnu | awk '{print $5}' | grep -E ":($(IFS='|'; echo "${PORTS[*]}"))\$" || true)
  [[ -z $busy ]] || die "ports the stack needs are taken on this machine: ${busy//$'\n'/ }"

  timeout "$EXEC_TIMEOUT" podman run --detach --name "$NAME" "${RUN_FLAGS[@]}" "$IMAGE" >/dev/null
  local deadline=$((SECONDS + BOOT_TIMEOUT)) state=""
  while ((SECONDS < deadline)); do
    state=$(in_container -- systemctl is-system-running --wait 2>/dev/null) || true
    [[ $state == running ]] && { echo "container $NAME: systemd $state"; return 0; }
    [[ $state == degraded ]] && break
    sleep 1
  done
  in_container -- systemctl --failed --no-pager >&2 || true
  die "container $NAME: systemd not running after ${BOOT_TIMEOUT}s (state '${state:-none}')"
}

deploy() {
  (
    cd "$repo_root"
    PATH="$venv/bin:$PATH" timeout "$DEPLOY_TIMEOUT" "$venv/bin/ansible-playbook" \
      -i inventory/local.yml molecule/resources/prepare.yml playbooks/site.yml
  )
}

send_lines() {
  local simulated counts corpus_count simulated_count
  simulated=$(mktemp "${TMPDIR:-/tmp}/logweave-demo-simulated.XXXXXX")
  timeout 120 "$venv/bin/logweave" simulate --count "$SIMULATED_LINES" --file "$simulated"
  # Each pasted corpus line back in the form its router sent it, over one TCP connection; then
  # the simulated lines one datagram each, paced as a busy network would send them: sent flat
  # out, most datagrams would overflow rsyslog's socket buffer before it reads them.
  counts=$("$venv/bin/python" - "$repo_root" "$simulated" "$UDP_LINES_PER_S" <<'PY'
import socket
import sys
import time
from pathlib import Path

from logweave.syslog_header import frame_pasted_line

repo, simulated, per_second = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
corpus = sorted(repo.joinpath("tests", "corpus").glob("*.log"))
lines = [frame_pasted_line(line) for log in corpus for line in log.read_bytes().splitlines()]
with socket.create_connection(("127.0.0.1", 514), timeout=10) as syslog:
    syslog.sendall(b"".join(line + b"\n" for line in lines))

datagrams = [line for line in simulated.read_bytes().splitlines() if line]
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as syslog:
    for sent, datagram in enumerate(datagrams):
        syslog.sendto(datagram, ("127.0.0.1", 514))
        if sent % 100 == 99:
            time.sleep(100 / per_second)
print(len(lines), len(datagrams))
PY
  )
  rm -f "$simulated"
  read -r corpus_count simulated_count <<<"$counts"
  echo "sent $corpus_count router lines from tests/corpus/ over TCP to 127.0.0.1:514"
  echo "sent $simulated_count simulated lines over UDP to 127.0.0.1:514"
  sent_lines=$((corpus_count + simulated_count))
}

# Until every sent line is in raw_logs and parsed_events has caught up with it, or neither has
# changed for SETTLED_AFTER seconds (a lost UDP datagram never arrives); bounded by SETTLE_TIMEOUT.
wait_until_settled() {
  local deadline=$((SECONDS + SETTLE_TIMEOUT)) last="" since=$SECONDS counts raw=0 parsed=0
  while ((SECONDS < deadline)); do
    counts=$(count_rows) || counts="0 -1"
    read -r raw parsed <<<"$counts"
    if [[ $counts != "$last" ]]; then
      last=$counts
      since=$SECONDS
      echo "raw_logs $raw, parsed_events $parsed"
    fi
    if ((raw == parsed && (raw == sent_lines || (raw > 0 && SECONDS - since >= SETTLED_AFTER)))); then
      break
    fi
    sleep 1
  done
  echo "arrived: $raw of the $sent_lines lines sent in raw_logs, $parsed in parsed_events"
  ((raw == sent_lines && parsed == sent_lines)) ||
    echo "demo: not every line arrived; the journal of rsyslog and the services says why" >&2
}

count_rows() {
  in_container -- runuser -u postgres -- psql --dbname=logweave -XAt --field-separator=' ' \
    --command='SELECT (SELECT count(*) FROM raw_logs), (SELECT count(*) FROM parsed_events)'
}

step() {
  local what=$1 started=$SECONDS
  shift
  echo "== $what =="
  "$@"
  echo "-- $what: $((SECONDS - started))s"
}

# in_container [podman exec options] -- command...
in_container() {
  local options=()
  while [[ $1 != -- ]]; do
    options+=("$1")
    shift
  done
  shift
  timeout "$EXEC_TIMEOUT" podman exec "${options[@]}" "$NAME" "$@"
}

die() {
  echo "demo-container: $*" >&2
  exit 1
}

main "$@"
