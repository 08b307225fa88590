#!/usr/bin/env bash
# Make sure the PostgreSQL the tests use (127.0.0.1:5432) is up; start a local cluster if one is
# installed but stopped. Says loudly when it cannot, and never fails the build by itself: the
# PostgreSQL tests then skip with a reason (or fail, under CI=true).
set -u
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
