#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Formatting, lints, unit tests, golden fixture tests and the integration tests that drive the
# real binary. Builds with --locked: Cargo.lock is the source of truth. The whole Cargo workspace
# (--workspace): the product crate `mailgate`, `crates/mailgate-bench` and
# `crates/mailgate-test-support`.
#
# The integration tests of the IMAP/SMTP side need the project's test mail stack (Dovecot +
# Postfix on 127.0.0.1, scripts/mailstack.sh, docs/mailstack.md). Before `cargo test` this script
# runs `scripts/mailstack.sh install` (apt-get, a no-op once installed) and `scripts/mailstack.sh
# start` (keeps a stack that is already running). Both need root, as on CI (a fresh Debian 12). If
# either fails, the run FAILS: those tests are never skipped.
#
# The stack is the one in $MAILSTACK_STATE_DIR, else .state/mailstack (the tests read the same).
# When this script started it, it stops it again at the end (pass or fail); a stack that was
# already running before is left running. MAILSTACK_KEEP=1 leaves a stack this script started
# running too (to look at its mail and logs after a failure).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (whole workspace, all targets, warnings are errors)"
cargo clippy --locked --workspace --all-targets -- -D warnings

echo "== GNU time (the hostile-mail test measures peak memory with it)"
if [[ ! -x /usr/bin/time ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends time \
        || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends time; }
fi

echo "== test mail stack (scripts/mailstack.sh install + start)"
scripts/mailstack.sh install
if scripts/mailstack.sh status >/dev/null 2>&1; then
    echo "mail stack already running: using it, leaving it running"
else
    if [[ ${MAILSTACK_KEEP:-} != 1 ]]; then
        trap 'echo "== stopping the test mail stack started by scripts/test.sh"; scripts/mailstack.sh stop' EXIT
    fi
    scripts/mailstack.sh start
fi

echo "== cargo test (whole workspace)"
cargo test --locked --workspace --all-targets 2>&1 | tee target/test-output.txt
grep -q "test result: ok" target/test-output.txt
