#!/usr/bin/env bash
# Make sure what the tests need beyond Python is here: PostgreSQL at 127.0.0.1:5432 (started if
# installed but stopped) and a headless Chromium (installed with apt when missing and possible).
# Says loudly what it cannot provide, and never fails the build by itself: those tests then skip
# with a reason (or fail under CI=true, where both must exist).
set -u

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  echo "services: Chromium found"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "services: installing Chromium with apt-get (browser tests need it)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
    >/tmp/custos-chromium-install.log 2>&1 \
    || echo "services: apt-get could not install Chromium (see /tmp/custos-chromium-install.log)"
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  echo "################################################################################"
  echo "services: Chromium is NOT available; the browser tests will be skipped"
  echo "          (or fail under CI=true). Install Debian's 'chromium' package to run them."
  echo "################################################################################"
fi

pg_up() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; }
if pg_up; then
  echo "services: PostgreSQL at 127.0.0.1:5432 is up"
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do pg_up && break; sleep 1; done
fi
if pg_up; then
  echo "services: started PostgreSQL at 127.0.0.1:5432"
else
  echo "################################################################################"
  echo "services: PostgreSQL is NOT reachable at 127.0.0.1:5432; its tests will be skipped"
  echo "          (or fail under CI=true). Install and start PostgreSQL to run them."
  echo "################################################################################"
fi
exit 0
