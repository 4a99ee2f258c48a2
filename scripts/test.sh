#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Formatting, lints, unit tests, golden fixture tests and the integration tests that drive the
# real binary. Builds with --locked: Cargo.lock is the source of truth.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --locked --all-targets -- -D warnings

echo "== cargo test"
cargo test --locked --all-targets 2>&1 | tee target/test-output.txt
grep -q "test result: ok" target/test-output.txt
