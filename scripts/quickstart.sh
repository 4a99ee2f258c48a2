#!/usr/bin/env bash
# Quick start: real mail becoming tickets.
#   1. installs (apt, as root; a no-op when present) and starts the test mail stack:
#      Dovecot (IMAP) + Postfix (SMTP) on 127.0.0.1, see docs/mailstack.md;
#   2. builds mailgate and runs `mailgate run` against a fresh mailbox of that stack;
#   3. sends the mails of fixtures/quickstart/ over SMTP and waits until each has a decision;
#   4. shows the tickets, one ticket in full, the decision log and the acknowledgements sent
#      back over SMTP (the outbox), then stops mailgate
#      gracefully (SIGINT) — and imports the sample archive of fixtures/ as a second example.
# Everything lands under .state/quickstart/; the mail stack keeps running so you can go on
# exploring: `scripts/quickstart.sh stop` stops it (by its recorded pids).
#
#   scripts/quickstart.sh          the quick start
#   scripts/quickstart.sh stop     stop the mail stack the quick start started
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# The stack of $MAILSTACK_STATE_DIR, else the repository's own (.state/mailstack).
stack=${MAILSTACK_STATE_DIR:-$root/.state/mailstack}

case ${1:-} in
    "") ;;
    stop)
        echo "== stopping the test mail stack of $stack"
        exec scripts/mailstack.sh stop "$stack"
        ;;
    -h | --help | help)
        sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "usage: scripts/quickstart.sh [stop]" >&2
        exit 2
        ;;
esac

echo "== 1/4 the test mail stack: Dovecot + Postfix on 127.0.0.1 (apt install the first time)"
scripts/mailstack.sh install
scripts/mailstack.sh start "$stack" >/dev/null
set -a
# shellcheck disable=SC1091
. "$stack/env"
set +a
echo "   running; stop it later with: scripts/quickstart.sh stop"

echo "== 2/4 building mailgate (release). The first build compiles about 300 crates and takes"
echo "   several minutes on a small machine; later builds take seconds."
cargo build --release --locked
mg=$root/target/release/mailgate
state=$root/.state/quickstart
rm -rf "$state" && mkdir -p "$state"

# A mailbox of its own, so earlier runs and the test suite never get in the way.
user="quickstart-$(date +%s)-$$@it.example.test"
scripts/mailstack.sh add-user "$user" >/dev/null

cat >"$state/mailgate.toml" <<EOF
[database]
url = "sqlite://$state/mailgate.db"

[tickets]
prefix = "SUP"
support_address = "Support <support@example.test>"

[[mailboxes]]
name = "support"
role = "support"
host = "localhost"
port = $MAILSTACK_IMAPS_PORT
tls = "implicit"
ca_file = "$MAILSTACK_CA_FILE"
username = "$user"
password_env = "QUICKSTART_IMAP_PASSWORD"
folder = "INBOX"
processed_folder = "Processed"
rejected_folder = "Rejected"
quarantine_folder = "Quarantine"
idle = true

# Acknowledgements and other notifications go out through the stack's Postfix.
[smtp]
host = "127.0.0.1"
port = $MAILSTACK_SMTP_PORT
tls = "none"
EOF
export MAILGATE_CONFIG=$state/mailgate.toml
export QUICKSTART_IMAP_PASSWORD=$MAILSTACK_PASSWORD

echo "== 3/4 mailgate run   (config $state/mailgate.toml, log $state/run.log)"
"$mg" run >"$state/run.log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q "connected" "$state/run.log" && break
    kill -0 $pid 2>/dev/null || { cat "$state/run.log"; echo "mailgate run exited" >&2; exit 1; }
    sleep 0.2
done
grep -q "connected" "$state/run.log" || { cat "$state/run.log"; echo "mailgate did not connect" >&2; exit 1; }

mails=(fixtures/quickstart/*.eml)
for f in "${mails[@]}"; do
    from=$(sed -n 's/^From:.*<\(.*\)>.*/\1/p' "$f" | head -1)
    printf '   SMTP %-40s -> %s\n' "$(basename "$f")" "$(scripts/smtp-send.sh "$from" "$user" "$f" | head -1)"
    # Wait for this mail's decision before sending the next, so the story reads in order.
    want=$(( $(grep -c "handled" "$state/run.log" || true) + 1 ))
    for _ in $(seq 100); do
        (( $(grep -c "handled" "$state/run.log" || true) >= want )) && break
        sleep 0.1
    done
done
echo
echo "== 4/4 what mailgate made of it"
echo "== mailgate tickets list"
"$mg" tickets list
echo
echo "== mailgate tickets show SUP-1"
"$mg" tickets show SUP-1
echo
echo "== mailgate decisions"
"$mg" decisions --limit ${#mails[@]}
echo
# The acknowledgements of SUP-1 and SUP-2 (none for the auto-reply) leave through the outbox.
for _ in $(seq 50); do
    "$mg" outbox list --status pending --json | grep -q '"id"' || break
    sleep 0.2
done
echo "== mailgate outbox list   (customer@acme.test's INBOX on the stack now holds the acknowledgement)"
"$mg" outbox list
echo
kill -INT $pid
wait $pid || true
trap - EXIT
echo "== what mailgate run logged (full log: $state/run.log)"
grep -E "connected|handled|stopped" "$state/run.log" | sed -E 's/^[^ ]+ +//' | cut -c1-160
echo
echo "== history too: mailgate import fixtures/sample-archive.mbox (into $state/archive.db)"
MAILGATE_DATABASE_URL="sqlite://$state/archive.db" "$mg" import fixtures/sample-archive.mbox
echo
echo "Explore: MAILGATE_CONFIG=$state/mailgate.toml $mg tickets list"
echo "Run it again live: QUICKSTART_IMAP_PASSWORD=secret MAILGATE_CONFIG=$state/mailgate.toml $mg run"
echo "and send mail:     scripts/smtp-send.sh customer@acme.test $user fixtures/quickstart/01-new-request.eml"
echo
echo "The test mail stack is still running (Dovecot and Postfix, state in $stack)."
echo "Stop it with:      scripts/quickstart.sh stop"
