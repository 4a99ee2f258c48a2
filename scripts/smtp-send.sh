#!/usr/bin/env bash
# Sends one raw message (an .eml file, or stdin with "-") over plain SMTP to a loopback server,
# in pure bash (/dev/tcp): no python, curl or swaks needed on a fresh machine.
#
#   scripts/smtp-send.sh [--port N] FROM TO[,TO...] FILE|-
#
# Port defaults to $MAILSTACK_SMTP_PORT, else 10025 (the test mail stack's Postfix). Lines are
# sent with CRLF endings and dot-stuffed. Exit 0 when the server accepted the message (prints
# its 250 reply), 1 with the server's reply otherwise.
set -euo pipefail

port=${MAILSTACK_SMTP_PORT:-10025}
host=127.0.0.1
if [[ ${1:-} == --port ]]; then
    port=$2
    shift 2
fi
(($# == 3)) || { echo "usage: $0 [--port N] FROM TO[,TO...] FILE|-" >&2; exit 2; }
from=$1 to=$2 file=$3
[[ $file == - || -r $file ]] || { echo "smtp-send: cannot read $file" >&2; exit 2; }

exec 3<>"/dev/tcp/$host/$port" || { echo "smtp-send: cannot connect to $host:$port" >&2; exit 1; }

reply=""
# Reads one (possibly multi-line) reply; fails unless its code starts with $1.
expect() {
    local want=$1 line
    reply=""
    while IFS= read -r -t 30 line <&3; do
        line=${line%$'\r'}
        reply+="$line"$'\n'
        [[ ${line:3:1} == "-" ]] || break
    done
    if [[ ${reply:0:1} != "$want" ]]; then
        echo "smtp-send: expected ${want}xx, server said: ${reply:-nothing}" >&2
        exit 1
    fi
}
say() { printf '%s\r\n' "$1" >&3; }

expect 2
say "EHLO localhost"; expect 2
say "MAIL FROM:<$from>"; expect 2
IFS=, read -r -a rcpts <<<"$to"
for r in "${rcpts[@]}"; do
    say "RCPT TO:<$r>"; expect 2
done
say "DATA"; expect 3
while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    [[ ${line:0:1} == "." ]] && line=".$line"
    printf '%s\r\n' "$line" >&3
done < <(if [[ $file == - ]]; then cat; else cat -- "$file"; fi)
say "."; expect 2
accepted=$reply
say "QUIT"
expect 2 || true
exec 3>&-
printf '%s' "$accepted"
