#!/usr/bin/env bash
# Quick start: build mailgate, import the sample support archive shipped in fixtures/ into a
# fresh SQLite database, and show the tickets and the decisions that made them.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked --quiet
mg=target/release/mailgate
state=.state/quickstart
rm -rf "$state" && mkdir -p "$state"
export MAILGATE_DATABASE_URL="sqlite://$state/mailgate.db"

echo "== mailgate import fixtures/sample-archive.mbox"
"$mg" import fixtures/sample-archive.mbox
echo
echo "== mailgate tickets list"
"$mg" tickets list
echo
echo "== mailgate tickets show SUP-1"
"$mg" tickets show SUP-1
echo
echo "== mailgate decisions --limit 8"
"$mg" decisions --limit 8
echo
echo "Database: $state/mailgate.db (set MAILGATE_DATABASE_URL=sqlite://$state/mailgate.db to explore it)"
