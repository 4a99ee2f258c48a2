#!/usr/bin/env bash
# mailgate's own test mail stack: Dovecot (IMAP, IMAPS, LMTP, SASL auth) and Postfix (SMTP and
# submission, delivering into Dovecot over LMTP) on 127.0.0.1, configured and stored entirely in one
# state directory. Used by the integration tests and the README quick start. See docs/mailstack.md.
#
#   scripts/mailstack.sh install                 apt-get install the daemons (idempotent, fast no-op)
#   scripts/mailstack.sh start  [STATE_DIR]      generate CA/certs/config once, start, wait for ports
#   scripts/mailstack.sh stop   [STATE_DIR]      stop both daemons by recorded pid and wait for exit
#   scripts/mailstack.sh status [STATE_DIR]      pids and ports; exit 0 only when everything is up
#   scripts/mailstack.sh send FROM TO SUBJECT [BODY]   submit a plain test mail over SMTP
#   scripts/mailstack.sh add-user ADDRESS [PASSWORD]   add (or update) a user ADDRESS in
#                                                the it.example.test domain while the stack runs
#   scripts/mailstack.sh restart-dovecot [STATE_DIR]   restart Dovecot only (Postfix keeps running)
#
# STATE_DIR defaults to $MAILSTACK_STATE_DIR, else .state/mailstack in the repository (send and
# add-user use MAILSTACK_STATE_DIR only). Read at start, then recorded in STATE_DIR/env for the rest:
#   MAILSTACK_IMAPS_PORT (10993) MAILSTACK_IMAP_PORT (10143) MAILSTACK_LMTP_PORT (10024)
#   MAILSTACK_SMTP_PORT (10025) MAILSTACK_SUBMISSION_PORT (10587) MAILSTACK_AUTH_PORT (10026)
#   MAILSTACK_USERS ("addr[:password] ..."), MAILSTACK_PASSWORD (secret), MAILSTACK_WAIT_SECS (30),
#   MAILSTACK_MAX_USERIP_CONNECTIONS (100), MAILSTACK_MESSAGE_SIZE_LIMIT (104857600)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$REPO/scripts/mailstack/lib.sh"
TEMPLATES=$REPO/scripts/mailstack
VMAIL_USER=mailgate-vmail
PACKAGES=(dovecot-imapd dovecot-lmtpd postfix openssl)
DEFAULT_USERS="support@example.test escalations@example.test customer@acme.test tier1@tier1.example.test oncall@example.test agent@agents.example.test"
CATCHALL=catchall@example.test
# Users of this domain are added at runtime (add-user), one passwd-file per user in USERS_DIR.
IT_DOMAIN=it.example.test
WAIT_SECS=${MAILSTACK_WAIT_SECS:-30}

die() { echo "mailstack: error: $*" >&2; exit 1; }
log() { echo "mailstack: $*"; }

need_root() {
    [[ $(id -u) == 0 ]] || die "'$1' must run as root (Postfix's master and the vmail user need it)"
}

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------

# resolve_state_dir [DIR]: sets STATE (absolute, no whitespace).
resolve_state_dir() {
    local dir=${1:-${MAILSTACK_STATE_DIR:-$REPO/.state/mailstack}}
    [[ $dir == /* ]] || dir=$PWD/$dir
    dir=${dir%/}
    [[ $dir != *[[:space:]\|\&\\]* ]] || die "state directory must not contain whitespace, '|', '&' or '\\': '$dir'"
    STATE=$dir
}

# Ports: the recorded env file of a stack wins for stop/status/send; start uses the environment.
load_ports_from_env() {
    IMAPS_PORT=${MAILSTACK_IMAPS_PORT:-10993}
    IMAP_PORT=${MAILSTACK_IMAP_PORT:-10143}
    LMTP_PORT=${MAILSTACK_LMTP_PORT:-10024}
    SMTP_PORT=${MAILSTACK_SMTP_PORT:-10025}
    SUBMISSION_PORT=${MAILSTACK_SUBMISSION_PORT:-10587}
    AUTH_PORT=${MAILSTACK_AUTH_PORT:-10026}
    local p
    for p in "$IMAPS_PORT" "$IMAP_PORT" "$LMTP_PORT" "$SMTP_PORT" "$SUBMISSION_PORT" "$AUTH_PORT"; do
        if ! [[ $p =~ ^[0-9]+$ ]] || ((p < 1 || p > 65535)); then die "invalid port '$p'"; fi
    done
    [[ $(printf '%s\n' "$IMAPS_PORT" "$IMAP_PORT" "$LMTP_PORT" "$SMTP_PORT" "$SUBMISSION_PORT" \
        "$AUTH_PORT" | sort -u | wc -l) == 6 ]] || die "the six MAILSTACK_*_PORT values must differ"
}

load_ports_from_state() {
    if [[ -f $STATE/env ]]; then
        local k v
        while IFS='=' read -r k v; do
            case $k in
                MAILSTACK_IMAPS_PORT) IMAPS_PORT=$v ;;
                MAILSTACK_IMAP_PORT) IMAP_PORT=$v ;;
                MAILSTACK_LMTP_PORT) LMTP_PORT=$v ;;
                MAILSTACK_SMTP_PORT) SMTP_PORT=$v ;;
                MAILSTACK_SUBMISSION_PORT) SUBMISSION_PORT=$v ;;
                MAILSTACK_AUTH_PORT) AUTH_PORT=$v ;;
            esac
        done <"$STATE/env"
    else
        load_ports_from_env
    fi
}

# name:port pairs, daemon that owns them
port_list() {
    echo "dovecot imaps $IMAPS_PORT"
    echo "dovecot imap $IMAP_PORT"
    echo "dovecot lmtp $LMTP_PORT"
    echo "dovecot auth $AUTH_PORT"
    echo "postfix smtp $SMTP_PORT"
    echo "postfix submission $SUBMISSION_PORT"
}

instance_name() {
    # Short stable name per state dir, for process titles / log tags of parallel stacks.
    echo "mailstack-$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)"
}

# Unix socket paths are limited to 107 bytes. Dovecot's live in base_dir = STATE/run (longest name
# ~23 bytes), and the postfix command connects to STATE/postfix/queue/public/postlog by absolute
# path. Keep STATE short enough for both rather than scattering runtime files elsewhere.
MAX_STATE_LEN=70
dovecot_base_dir() {
    echo "$STATE/run"
}

# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_of dovecot|postfix: the recorded pid if that process is alive and really is our daemon
# (not a recycled pid): Dovecot's master runs as `dovecot -c OUR_CONF`, Postfix's master works in
# our queue directory (only root can see that; others get the weaker command-name check).
pid_of() {
    local which=$1 pidfile=$STATE/pids/$1.pid pid cmd cwd
    [[ -f $pidfile ]] || return 1
    pid=$(tr -dc '0-9' <"$pidfile")
    [[ -n $pid ]] && alive "$pid" || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    case $which in
        dovecot) [[ $cmd == "/usr/sbin/dovecot -c $STATE/dovecot/dovecot.conf "* ]] || return 1 ;;
        postfix)
            [[ $cmd == */postfix/sbin/master\ * ]] || return 1
            if cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null); then
                [[ $cwd == "$STATE/postfix/queue" ]] || return 1
            fi
            ;;
    esac
    echo "$pid"
}

# descendants PID: all live descendants of PID (children first-level included), one per line.
descendants() {
    local root=$1 stat line pid ppid _state _rest
    declare -A kids=()
    for stat in /proc/[0-9]*/stat; do
        # field 4 is ppid; the command name (field 2) may contain spaces, so split after ')'.
        read -r line 2>/dev/null <"$stat" || continue
        pid=${stat%/stat}
        pid=${pid#/proc/}
        read -r _state ppid _rest <<<"${line##*) }"
        kids[$ppid]+=" $pid"
    done
    local queue=("$root") p c
    while ((${#queue[@]})); do
        p=${queue[0]}; queue=("${queue[@]:1}")
        for c in ${kids[$p]:-}; do
            echo "$c"
            queue+=("$c")
        done
    done
}


any_alive() {
    local p
    for p in "$@"; do alive "$p" && return 0; done
    return 1
}

# start_time PID: the process's start time (clock ticks since boot), to tell it from a later
# process that got the same pid.
start_time() {
    local line fields
    read -r line 2>/dev/null <"/proc/$1/stat" || return 1
    read -ra fields <<<"${line##*) }"
    echo "${fields[19]}"
}

# stop_daemons NAME...: SIGTERM each recorded master (for Postfix that is exactly what
# `postfix stop` does, minus its 1 s polling) and wait for it. Dovecot's master exits without
# waiting for its mail processes: an imap process with a client keeps serving it for ~10 s more
# before it says BYE. shutdown_clients = yes means they are to go, so once the masters are gone
# the rest of their trees gets SIGTERM too (an imap process then sends "* BYE Server shutting
# down." at once). SIGKILL to whatever is left after 15 s.
stop_daemons() {
    local name pid procs=() masters=() stopped=() i
    declare -A born=()
    for name in "$@"; do
        if pid=$(pid_of "$name"); then
            mapfile -t -O "${#procs[@]}" procs < <(descendants "$pid")
            procs+=("$pid")
            masters+=("$pid")
            stopped+=("$name (pid $pid)")
        fi
        rm -f "$STATE/pids/$name.pid"
    done
    if ((${#procs[@]} == 0)); then
        log "not running ($STATE)"
        return 0
    fi
    for pid in "${procs[@]}"; do born[$pid]=$(start_time "$pid" || echo gone); done
    for pid in "${masters[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    # signal PID only while it is still the process we listed (pids get reused)
    ours() { alive "$1" && [[ $(start_time "$1" || true) == "${born[$1]}" ]]; }
    for ((i = 0; i < 300; i++)); do
        any_alive "${masters[@]}" || break
        sleep 0.05
    done
    for pid in "${procs[@]}"; do
        if ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for (( ; i < 300; i++)); do
        any_alive "${procs[@]}" || break
        sleep 0.05
    done
    if any_alive "${procs[@]}"; then
        log "not all processes exited within 15 s, sending SIGKILL to what is left"
        for pid in "${procs[@]}"; do
            if ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
        done
        sleep 0.2
    fi
    log "stopped ${stopped[*]}"
}

show_log_tail() {
    local f
    for f in "$@"; do
        [[ -s $f ]] || continue
        echo "---- tail of $f ----" >&2
        tail -n 25 "$f" >&2
    done
}

show_daemon_logs() { # show_daemon_logs dovecot|postfix
    show_log_tail "$STATE/log/$1.stderr" "$STATE/log/$1.log"
}

# ---------------------------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------------------------

packages_installed() {
    local p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || return 1
    done
    command -v dovecot >/dev/null && command -v postfix >/dev/null
}

cmd_install() {
    if packages_installed; then
        log "already installed: ${PACKAGES[*]} ($(dovecot --version | cut -d' ' -f1), postfix $(postconf -d -h mail_version 2>/dev/null))"
        return 0
    fi
    need_root install
    export DEBIAN_FRONTEND=noninteractive
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    # Never let the package scripts start the system-wide daemons (on ports 25/143/993).
    local policy=/usr/sbin/policy-rc.d created_policy=
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && created_policy=1
    fi
    local rc=0
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
        log "apt-get update"
        apt-get update -qq || rc=$?
    fi
    if ((rc == 0)); then
        log "apt-get install ${PACKAGES[*]}"
        if ! apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${PACKAGES[@]}"; then
            log "install failed; apt-get update once and retry (stale package lists?)"
            apt-get update -qq && apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${PACKAGES[@]}" || rc=$?
        fi
    fi
    [[ -n $created_policy ]] && rm -f "$policy"
    ((rc == 0)) || die "apt-get failed (exit $rc)"
    packages_installed || die "packages still missing after apt-get install"
    log "installed: $(dovecot --version | cut -d' ' -f1), postfix $(postconf -d -h mail_version)"
}

# ---------------------------------------------------------------------------------------------
# start
# ---------------------------------------------------------------------------------------------

ensure_vmail_user() {
    if ! id -u "$VMAIL_USER" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "mailgate test mail stack" "$VMAIL_USER"
        log "created system user $VMAIL_USER"
    fi
    VMAIL_UID=$(id -u "$VMAIL_USER")
    VMAIL_GID=$(id -g "$VMAIL_USER")
}

ensure_certs() {
    local t=$STATE/tls
    if [[ -s $t/ca.pem && -s $t/server.pem && -s $t/server.key && -s $t/other-ca.pem ]]; then
        return 0
    fi
    log "generating test CA and server certificate in $t"
    mkdir -p "$t"
    (
        cd "$t"
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -keyout ca.key -out ca.pem -subj "/O=mailgate/CN=mailgate mailstack test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr \
            -subj "/O=mailgate/CN=localhost" 2>/dev/null
        cat >server.ext <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF
        openssl x509 -req -sha256 -days 3650 -in server.csr -CA ca.pem -CAkey ca.key \
            -set_serial "0x$(openssl rand -hex 8)" -extfile server.ext -out server.pem 2>/dev/null
        # A second, unrelated CA: a client trusting only this one must refuse the server.
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -keyout other-ca.key -out other-ca.pem -subj "/O=mailgate/CN=mailstack unrelated CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        rm -f server.csr server.ext other-ca.key
        chmod 644 ca.pem server.pem other-ca.pem
        chmod 600 ca.key server.key
    )
    openssl verify -CAfile "$t/ca.pem" "$t/server.pem" >/dev/null ||
        die "generated server certificate does not verify against $t/ca.pem"
}

# users: "addr" or "addr:password", separated by spaces or commas. The catch-all is always added.
parse_users() {
    local spec=${MAILSTACK_USERS:-$DEFAULT_USERS} entry addr pw
    USER_ADDRS=()
    USER_LINES=()
    PASSWORD=${MAILSTACK_PASSWORD:-secret}
    [[ $PASSWORD != *:* && $PASSWORD != *[[:space:]]* ]] || die "MAILSTACK_PASSWORD must not contain ':' or whitespace"
    for entry in ${spec//,/ } "$CATCHALL"; do
        addr=${entry%%:*}
        pw=$PASSWORD
        [[ $entry == *:* ]] && pw=${entry#*:}
        addr=${addr,,}
        [[ $addr =~ ^[a-z0-9._-]+@[a-z0-9.-]+$ ]] || die "bad user address '$addr' in MAILSTACK_USERS"
        [[ $pw != *:* ]] || die "password of $addr must not contain ':'"
        [[ " ${USER_ADDRS[*]} " == *" $addr "* ]] && continue
        USER_ADDRS+=("$addr")
        USER_LINES+=("$addr:{PLAIN}$pw::::::")
    done
}

render() { # render TEMPLATE OUT
    sed -e "s|@STATE_DIR@|$STATE|g" -e "s|@BASE_DIR@|$BASE_DIR|g" -e "s|@INSTANCE@|$INSTANCE|g" \
        -e "s|@VMAIL_UID@|$VMAIL_UID|g" -e "s|@VMAIL_GID@|$VMAIL_GID|g" \
        -e "s|@IMAPS_PORT@|$IMAPS_PORT|g" -e "s|@IMAP_PORT@|$IMAP_PORT|g" \
        -e "s|@LMTP_PORT@|$LMTP_PORT|g" -e "s|@AUTH_PORT@|$AUTH_PORT|g" \
        -e "s|@SMTP_PORT@|$SMTP_PORT|g" -e "s|@SUBMISSION_PORT@|$SUBMISSION_PORT|g" \
        -e "s|@MAX_USERIP@|${MAILSTACK_MAX_USERIP_CONNECTIONS:-100}|g" \
        -e "s|@MESSAGE_SIZE_LIMIT@|${MAILSTACK_MESSAGE_SIZE_LIMIT:-104857600}|g" \
        "$1" >"$2.tmp"
    if grep -q '@[A-Z_]*@' "$2.tmp"; then
        die "unsubstituted placeholder in $2: $(grep -o '@[A-Z_]*@' "$2.tmp" | head -n1)"
    fi
    mv "$2.tmp" "$2"
}

write_config() {
    # Postfix: config, queue and data directories side by side -- `postfix check` warns about
    # anything below config_directory that is not owned by root.
    local d=$STATE/dovecot p=$STATE/postfix/etc addr re
    mkdir -p "$d/lib" "$p" "$STATE/postfix/data" "$STATE/postfix/queue" "$STATE/log" "$STATE/pids" "$STATE/mail"
    chmod 755 "$STATE" "$STATE/log" "$STATE/postfix" "$p" "$STATE/postfix/queue"
    # Dovecot
    printf '%s\n' "# generated by scripts/mailstack.sh: user:{PLAIN}password, uid/gid/home from defaults" \
        "${USER_LINES[@]}" >"$d/users.tmp"
    chmod 640 "$d/users.tmp"
    chown "root:dovecot" "$d/users.tmp"
    mv "$d/users.tmp" "$d/users"
    # Runtime users (add-user): one passwd-file per user, kept across restarts. setgid dovecot so
    # every file written here is readable by Dovecot's auth process (which does not run as root).
    mkdir -p "$d/users.d"
    chown root:dovecot "$d/users.d"
    chmod 2750 "$d/users.d"
    render "$TEMPLATES/dovecot.conf.in" "$d/dovecot.conf"
    chown "$VMAIL_USER:$VMAIL_USER" "$STATE/mail"
    chmod 750 "$STATE/mail"
    # Postfix
    render "$TEMPLATES/main.cf.in" "$p/main.cf"
    render "$TEMPLATES/master.cf.in" "$p/master.cf"
    {
        echo "# generated by scripts/mailstack.sh: every *.test domain is delivered to Dovecot"
        echo '/^([a-z0-9-]+\.)*test$/ OK'
    } >"$p/virtual_domains.regexp"
    {
        echo "# generated by scripts/mailstack.sh: known users (user+tag@ too) keep their address,"
        echo "# every $IT_DOMAIN address keeps its own (users added at runtime; an unknown one is"
        echo "# refused by Dovecot's LMTP and bounces), any other *.test address goes to the catch-all"
        echo "# mailbox $CATCHALL. Mapping an address to itself ends the alias recursion."
        for addr in "${USER_ADDRS[@]}"; do
            re=${addr//./\\.}
            re=${re/@/(\\+[^@]*)?@}
            echo "/^(${re})\$/ \${1}"
        done
        echo "/^([^@]+@${IT_DOMAIN//./\\.})\$/ \${1}"
        echo "/^[^@]+@([a-z0-9-]+\\.)*test\$/ $CATCHALL"
    } >"$p/virtual_alias.regexp"
    {
        echo "# generated by scripts/mailstack.sh"
        echo '!/@([a-z0-9-]+\.)*test$/ REJECT 5.7.1 mailstack delivers only to *.test addresses'
    } >"$p/recipient_access.regexp"
    chown root:root "$STATE/postfix" "$p" "$STATE/postfix/queue" "$p"/*.cf "$p"/*.regexp
    chmod 644 "$p"/*.cf "$p"/*.regexp
    # Postfix refuses to read a main.cf/table modified within the current second: it sleeps in
    # 300 ms steps until the file is old enough (~1.5 s lost per start). Back-date our files.
    touch -d "@$(($(date +%s) - 2))" "$p"/*.cf "$p"/*.regexp
    chown postfix:postfix "$STATE/postfix/data"
    chmod 700 "$STATE/postfix/data"
}

write_env() {
    local f=$STATE/env
    cat >"$f.tmp" <<EOF
# mailgate test mail stack ($(date -u +%Y-%m-%dT%H:%M:%SZ)). Plain KEY=VALUE lines, no quoting:
# in a shell use  set -a; . $f; set +a
MAILSTACK_STATE_DIR=$STATE
MAILSTACK_HOST=127.0.0.1
MAILSTACK_IMAPS_PORT=$IMAPS_PORT
MAILSTACK_IMAP_PORT=$IMAP_PORT
MAILSTACK_SMTP_PORT=$SMTP_PORT
MAILSTACK_SUBMISSION_PORT=$SUBMISSION_PORT
MAILSTACK_LMTP_PORT=$LMTP_PORT
MAILSTACK_AUTH_PORT=$AUTH_PORT
MAILSTACK_CA_FILE=$STATE/tls/ca.pem
MAILSTACK_OTHER_CA_FILE=$STATE/tls/other-ca.pem
MAILSTACK_TLS_SERVER_NAME=localhost
MAILSTACK_PASSWORD=$PASSWORD
MAILSTACK_USERS=$(IFS=,; echo "${USER_ADDRS[*]}")
MAILSTACK_CATCHALL=$CATCHALL
MAILSTACK_IT_DOMAIN=$IT_DOMAIN
MAILSTACK_USERS_DIR=$STATE/dovecot/users.d
MAILSTACK_MAIL_DIR=$STATE/mail
MAILSTACK_DOVECOT_CONF=$STATE/dovecot/dovecot.conf
MAILSTACK_POSTFIX_CONFIG_DIR=$STATE/postfix/etc
MAILSTACK_DOVECOT_LOG=$STATE/log/dovecot.log
MAILSTACK_POSTFIX_LOG=$STATE/log/postfix.log
EOF
    mv "$f.tmp" "$f"
}

# The unprivileged users must be able to reach their directories (a state dir below /root, for
# example, is not reachable by them: deliveries would fail with "Permission denied").
check_traversal() {
    local user
    chmod 755 "$STATE"
    for user in "$VMAIL_USER" postfix dovenull; do
        setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups test -x "$STATE" ||
            die "user $user cannot reach $STATE (a parent directory is not searchable by others); use a state directory elsewhere, e.g. in the repository or under /tmp"
    done
}

check_ports_free() {
    local daemon name port holder
    while read -r daemon name port; do
        if port_open "$port"; then
            holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:(.*' | head -n1 || true)
            die "port $port ($daemon $name) on 127.0.0.1 is already in use ${holder:+by $holder}; stop that or set MAILSTACK_${name^^}_PORT"
        fi
    done < <(port_list)
}

# wait_ports DEADLINE_EPOCH [DAEMON]: every port (of DAEMON) accepts connections, else name the
# daemon + log tail.
wait_ports() {
    local deadline=$1 only=${2:-} daemon name port
    while read -r daemon name port; do
        [[ -z $only || $daemon == "$only" ]] || continue
        until port_open "$port"; do
            if ! pid_of "$daemon" >/dev/null; then
                echo "mailstack: error: $daemon exited during startup ($name port $port never opened)" >&2
                show_daemon_logs "$daemon"
                return 1
            fi
            if ((SECONDS >= deadline)); then
                echo "mailstack: error: $daemon: $name port 127.0.0.1:$port not accepting connections after ${WAIT_SECS} s" >&2
                show_daemon_logs "$daemon"
                return 1
            fi
            sleep 0.05
        done
    done < <(port_list)
}

start_dovecot() {
    local conf=$STATE/dovecot/dovecot.conf pidfile i
    if ! doveconf -c "$conf" -n >/dev/null 2>"$STATE/log/dovecot.stderr"; then
        echo "mailstack: error: dovecot: configuration $conf rejected" >&2
        show_log_tail "$STATE/log/dovecot.stderr"
        return 1
    fi
    # Dovecot keeps the caller's stdio open: always detach it, or $(...) and pipes hang.
    if ! dovecot -c "$conf" </dev/null >>"$STATE/log/dovecot.stderr" 2>&1 9>&-; then
        echo "mailstack: error: dovecot failed to start" >&2
        show_daemon_logs dovecot
        return 1
    fi
    pidfile=$BASE_DIR/master.pid
    for ((i = 0; i < 100; i++)); do
        [[ -s $pidfile ]] && break
        sleep 0.05
    done
    [[ -s $pidfile ]] || { echo "mailstack: error: dovecot wrote no $pidfile" >&2; show_daemon_logs dovecot; return 1; }
    tr -dc '0-9' <"$pidfile" >"$STATE/pids/dovecot.pid"
}

start_postfix() {
    local dir=$STATE/postfix/etc pidfile=$STATE/postfix/queue/pid/master.pid i
    # The first `postfix start` runs post-install create-missing: it creates the queue directories
    # with their owners and modes. Those checks cost ~2 s of postconf calls, so later starts skip
    # them through postfix-script's own quick-start marker.
    [[ -d $STATE/postfix/queue/active && -d $STATE/postfix/queue/public ]] && : >"$STATE/postfix/queue/quick-start"
    if ! postfix -c "$dir" start </dev/null >>"$STATE/log/postfix.stderr" 2>&1 9>&-; then
        echo "mailstack: error: postfix failed to start" >&2
        # postfix(1) prints its fatal errors to stderr only when that is a terminal (else only to
        # the maillog, which may not exist yet): replay the checks under a pseudo-terminal.
        if command -v script >/dev/null; then
            echo "---- postfix -c $dir check ----" >&2
            script -qec "postfix -c '$dir' check" /dev/null </dev/null 2>&1 9>&- | tail -n 20 >&2 || true
        fi
        show_daemon_logs postfix
        return 1
    fi
    for ((i = 0; i < 100; i++)); do
        [[ -s $pidfile ]] && break
        sleep 0.05
    done
    [[ -s $pidfile ]] || { echo "mailstack: error: postfix wrote no $pidfile" >&2; show_daemon_logs postfix; return 1; }
    tr -dc '0-9' <"$pidfile" >"$STATE/pids/postfix.pid"
}

lock_state() {
    mkdir -p "$STATE"
    exec 9>"$STATE/.lock"
    flock -w 120 9 || die "another mailstack.sh holds $STATE/.lock"
}

print_summary() {
    cat <<EOF
mailstack: running (dovecot pid $(pid_of dovecot), postfix pid $(pid_of postfix)), state in $STATE
  IMAPS  127.0.0.1:$IMAPS_PORT (implicit TLS)    IMAP 127.0.0.1:$IMAP_PORT (STARTTLS or plain)
  SMTP   127.0.0.1:$SMTP_PORT (plain/STARTTLS)    submission 127.0.0.1:$SUBMISSION_PORT (STARTTLS + AUTH)
  LMTP   127.0.0.1:$LMTP_PORT                     Dovecot auth for Postfix 127.0.0.1:$AUTH_PORT
  CA     $STATE/tls/ca.pem
  users  ${USER_ADDRS[*]:-see $STATE/dovecot/users} (password: ${PASSWORD:-see env})
  env    $STATE/env   (set -a; . $STATE/env; set +a)
EOF
}

cmd_start() {
    need_root start
    resolve_state_dir "${1:-}"
    if ! command -v dovecot >/dev/null || ! command -v postfix >/dev/null; then
        die "dovecot/postfix not installed: run scripts/mailstack.sh install"
    fi
    lock_state
    local dv pf
    dv=$(pid_of dovecot || true)
    pf=$(pid_of postfix || true)
    if [[ -n $dv && -n $pf ]]; then
        load_ports_from_state
        wait_ports $((SECONDS + WAIT_SECS)) || die "stack in $STATE is running but not healthy"
        log "already running"
        PASSWORD=
        USER_ADDRS=()
        print_summary
        return 0
    fi
    if [[ -n $dv || -n $pf ]]; then
        log "only part of the stack is running; restarting it"
        stop_daemons postfix dovecot
    fi
    ((${#STATE} <= MAX_STATE_LEN)) ||
        die "state directory path is ${#STATE} characters long, at most $MAX_STATE_LEN work (unix socket paths inside it are limited to 107 bytes): $STATE"
    local t0=$SECONDS
    load_ports_from_env
    parse_users
    INSTANCE=$(instance_name)
    BASE_DIR=$(dovecot_base_dir)
    mkdir -p "$STATE"
    ensure_vmail_user
    check_traversal
    ensure_certs
    write_config
    rm -f "$STATE/env"
    check_ports_free
    # Stale pid files of daemons that died without us (kill -9, reboot): nothing listens on our
    # ports (checked above), so nothing of this stack is running.
    rm -f "$BASE_DIR/master.pid" "$STATE/postfix/queue/pid/master.pid"
    : >"$STATE/log/dovecot.stderr"
    : >"$STATE/log/postfix.stderr"
    if ! start_dovecot || ! start_postfix || ! wait_ports $((t0 + WAIT_SECS)); then
        log "startup failed; stopping what was started (logs stay in $STATE/log)"
        stop_daemons postfix dovecot >/dev/null
        exit 1
    fi
    write_env
    print_summary
}

cmd_stop() {
    need_root stop
    resolve_state_dir "${1:-}"
    [[ -d $STATE ]] || { log "no stack in $STATE"; return 0; }
    lock_state
    mkdir -p "$STATE/log"
    stop_daemons postfix dovecot
    rm -f "$STATE/env"
}

cmd_status() {
    resolve_state_dir "${1:-}"
    load_ports_from_state
    local ok=0 d pid daemon name port
    for d in dovecot postfix; do
        if pid=$(pid_of "$d"); then
            echo "$d: running, pid $pid"
        else
            echo "$d: not running"
            ok=1
        fi
    done
    while read -r daemon name port; do
        if port_open "$port"; then
            echo "  $name 127.0.0.1:$port open"
        else
            echo "  $name 127.0.0.1:$port closed"
            ok=1
        fi
    done < <(port_list)
    if [[ -d $STATE/postfix/queue ]]; then
        echo "postfix queue: $(find "$STATE/postfix/queue/"{incoming,active,deferred,hold} -type f 2>/dev/null | wc -l) message(s)"
    fi
    echo "state: $STATE"
    return $ok
}

cmd_send() {
    (($# >= 3)) || die "usage: mailstack.sh send FROM TO SUBJECT [BODY]"
    resolve_state_dir ""
    [[ -f $STATE/env ]] || die "no running stack in $STATE (no $STATE/env); start it, or set MAILSTACK_STATE_DIR"
    load_ports_from_state
    local from=$1 to=$2 subject=$3 body=${4:-"Test message from scripts/mailstack.sh send at $(date)."}
    local mid="<$(date +%s%N).$$.$RANDOM@mailstack.test>"
    # Pure bash (scripts/smtp-send.sh): no python or swaks needed on a fresh machine.
    printf 'From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
        "$from" "$to" "$subject" "$(LC_ALL=C date -R)" "$mid" "$body" |
        "$REPO/scripts/smtp-send.sh" --port "$SMTP_PORT" "$from" "$to" - >/dev/null ||
        die "sending via 127.0.0.1:$SMTP_PORT failed"
    echo "mailstack: sent $mid from $from to $to via 127.0.0.1:$SMTP_PORT"
}

# add-user ADDRESS [PASSWORD]: a user of the it.example.test domain, known to Dovecot (IMAP login,
# LMTP delivery) as soon as this returns. One passwd-file per user, USERS_DIR/ADDRESS, written to a
# temporary file and renamed into place: concurrent calls (same or different users) are safe without
# a lock, and the same call twice is a no-op. Mail to ANY address of the domain is routed to Dovecot;
# Dovecot only accepts it for users added here (otherwise LMTP refuses it and Postfix bounces it).
cmd_add_user() {
    (($# == 1 || $# == 2)) || die "usage: mailstack.sh add-user ADDRESS [PASSWORD]"
    need_root add-user
    resolve_state_dir ""
    [[ -f $STATE/env ]] || die "no running stack in $STATE (no $STATE/env); start it with scripts/mailstack.sh start, or set MAILSTACK_STATE_DIR"
    local addr=${1,,} pw=${2:-} dir=$STATE/dovecot/users.d conf=$STATE/dovecot/dovecot.conf
    local line file tmp old= i
    [[ $addr =~ ^[a-z0-9][a-z0-9._-]{0,63}@${IT_DOMAIN//./\\.}$ ]] ||
        die "add-user: '$1' is not an address of $IT_DOMAIN (local part: letters, digits, '.', '_', '-'; no '+', at most 64 characters, starting with a letter or digit)"
    if [[ -z $pw ]]; then
        pw=$(sed -n 's/^MAILSTACK_PASSWORD=//p' "$STATE/env")
        [[ -n $pw ]] || die "no MAILSTACK_PASSWORD in $STATE/env; give a PASSWORD"
    fi
    [[ -n $pw && $pw != *:* && $pw != *[![:graph:]]* ]] || die "add-user: the password must be printable, without ':' or whitespace"
    if [[ ! -d $dir ]] || ! grep -qF "$dir/%Lu" "$conf" 2>/dev/null; then
        die "the stack in $STATE was started by an older mailstack.sh without add-user support: restart it (scripts/mailstack.sh stop && scripts/mailstack.sh start)"
    fi
    line="$addr:{PLAIN}$pw::::::"
    file=$dir/$addr
    [[ -f $file ]] && old=$(<"$file")
    if [[ $old != "$line" ]]; then
        tmp=$(mktemp "$dir/.add-user.XXXXXX")
        printf '%s\n' "$line" >"$tmp"
        chown root:dovecot "$tmp"
        chmod 640 "$tmp"
        mv -f "$tmp" "$file"
    fi
    # Prove it: Dovecot's userdb (what LMTP and IMAP use) must know the user now. Only a changed
    # password can lag (Dovecot re-reads a known user's file at most once per second).
    if pid_of dovecot >/dev/null; then
        for ((i = 0; i < 100; i++)); do
            if [[ -z $old ]] || [[ $old == "$line" ]]; then
                doveadm -c "$conf" user -f uid "$addr" >/dev/null 2>&1 && break
            else
                doveadm -c "$conf" auth test "$addr" "$pw" >/dev/null 2>&1 && break
            fi
            sleep 0.05
        done
        ((i < 100)) || die "Dovecot does not know $addr 5 s after writing $file (see $STATE/log/dovecot.log)"
    else
        log "note: Dovecot is not running; $addr will be known when it is"
    fi
    if [[ -z $old ]]; then
        log "added $addr"
    elif [[ $old == "$line" ]]; then
        log "$addr already present"
    else
        log "changed the password of $addr"
    fi
}

# restart-dovecot [STATE_DIR]: stop Dovecot by its recorded pid, start it again with the same
# rendered configuration, wait until its ports accept connections, then let Postfix retry at once
# what it deferred meanwhile. Postfix keeps running; users, runtime users and mail are kept. Every
# IMAP connection of every client is cut: tests doing this must hold the stack exclusively.
cmd_restart_dovecot() {
    need_root restart-dovecot
    resolve_state_dir "${1:-}"
    [[ -f $STATE/env ]] || die "no running stack in $STATE (no $STATE/env); start it with scripts/mailstack.sh start"
    lock_state
    pid_of postfix >/dev/null || die "Postfix of the stack in $STATE is not running: use scripts/mailstack.sh start (it restarts both)"
    local t0=$SECONDS start=$EPOCHREALTIME pid
    load_ports_from_state
    BASE_DIR=$(dovecot_base_dir)
    mkdir -p "$STATE/log"
    stop_daemons dovecot
    rm -f "$BASE_DIR/master.pid"
    if ! start_dovecot || ! wait_ports $((t0 + WAIT_SECS)) dovecot; then
        die "Dovecot did not come back (logs in $STATE/log); scripts/mailstack.sh start restarts the whole stack"
    fi
    postqueue -c "$STATE/postfix/etc" -f </dev/null 9>&- ||
        log "warning: postqueue -f failed; deferred deliveries are retried within 10 s anyway"
    pid=$(pid_of dovecot)
    log "dovecot restarted (pid $pid) in $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"
}

usage() {
    sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
    local cmd=${1:-}
    (($#)) && shift
    case $cmd in
        install) cmd_install "$@" ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        send) cmd_send "$@" ;;
        add-user) cmd_add_user "$@" ;;
        restart-dovecot) cmd_restart_dovecot "$@" ;;
        -h | --help | help) usage ;;
        *) usage >&2; exit 2 ;;
    esac
}

main "$@"
