#!/usr/bin/env bash
# Installs what the test suite needs from Debian's packages when it is missing:
# Chromium (end-to-end tests), PostgreSQL (the API and gateway suites on a real Postgres) and
# redis-server (shared rate limits across instances, the Upstash bridge).
# Run by `npm test` (pretest). The servers themselves are started per run, on free loopback
# ports, by tests/support/global-setup.ts, and stopped when the run ends.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/redis-server ] || need+=(redis-server)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "test-services: installing ${need[*]} from Debian's packages…"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "test-services: ${need[*]} missing and not root: install them (apt-get install ${need[*]}) and run again" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts the services on install; the tests run their own, so leave the machine as it was.
if command -v service >/dev/null 2>&1; then
  for svc in postgresql redis-server; do
    if [[ " ${need[*]} " == *" $svc "* ]]; then $SUDO service "$svc" stop >/dev/null 2>&1 || true; fi
  done
fi
echo "test-services: done"
