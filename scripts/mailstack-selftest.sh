#!/usr/bin/env bash
# Self-test of the test mail stack (scripts/mailstack.sh): install, start from scratch, IMAP over
# implicit TLS and STARTTLS with the generated CA, SMTP delivery through Postfix -> LMTP -> Dovecot,
# authenticated submission, plus-addressing and catch-all, no login penalty after a wrong password,
# IDLE latency, runtime users of it.example.test (add-user, also in parallel) and their delivery,
# restart-dovecot, a second stack on other ports beside the first, stop leaves no process, restart.
# Exit status non-zero on any failure. Uses its own state directories (not .state/mailstack):
#   MAILSTACK_SELFTEST_DIR   (default .state/mailstack-selftest; the second stack uses DIR-2)
#   MAILSTACK_*_PORT         ports of the first stack (defaults 10993 10143 10024 10025 10587 10026)
#   MAILSTACK_SELFTEST_PORT_OFFSET   the second stack's ports = first + offset (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/mailstack/lib.sh
REPO=$PWD
MS=$REPO/scripts/mailstack.sh
ST1=${MAILSTACK_SELFTEST_DIR:-$REPO/.state/mailstack-selftest}
ST2=$ST1-2
OFFSET=${MAILSTACK_SELFTEST_PORT_OFFSET:-1000}
T_START=$EPOCHREALTIME

ms() { # elapsed seconds since $1 (an $EPOCHREALTIME value), 3 decimals
    python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$EPOCHREALTIME"
}
step() { echo; echo "== $*"; }
fail() { echo "SELFTEST FAILED: $*" >&2; exit 1; }

cleanup() {
    local rc=$?
    "$MS" stop "$ST2" >/dev/null 2>&1 || true
    "$MS" stop "$ST1" >/dev/null 2>&1 || true
    ((rc == 0)) || echo "SELFTEST FAILED (exit $rc); logs: $ST1/log $ST2/log" >&2
}
trap cleanup EXIT

# Every process running a Postfix or Dovecot binary, whoever started it.
mail_procs() {
    local p exe
    for p in /proc/[0-9]*; do
        exe=$(readlink "$p/exe" 2>/dev/null) || continue
        case $exe in
            /usr/sbin/dovecot | /usr/lib/dovecot/* | /usr/lib/postfix/sbin/*) echo "${p#/proc/} $exe" ;;
        esac
    done
}


# The recorded masters of a stack and all their children.
stack_procs() {
    local f pid
    for f in "$1"/pids/dovecot.pid "$1"/pids/postfix.pid; do
        [[ -s $f ]] || continue
        pid=$(tr -dc 0-9 <"$f")
        echo "$pid"
        ps -o pid= --ppid "$pid" || true
    done
}

py() { # the Python checks, run against the stack described by $MAILSTACK_ENV
    python3 - "$@" <<'PY'
import grp, imaplib, os, smtplib, socket, ssl, subprocess, sys, time, uuid
from email.message import EmailMessage

env = {}
for line in open(os.environ["MAILSTACK_ENV"]):
    if "=" in line and not line.startswith("#"):
        k, v = line.rstrip("\n").split("=", 1)
        env[k] = v
H = "127.0.0.1"
IMAPS, IMAP = int(env["MAILSTACK_IMAPS_PORT"]), int(env["MAILSTACK_IMAP_PORT"])
SMTP, SUBM = int(env["MAILSTACK_SMTP_PORT"]), int(env["MAILSTACK_SUBMISSION_PORT"])
PW = env["MAILSTACK_PASSWORD"]
CTX = ssl.create_default_context(cafile=env["MAILSTACK_CA_FILE"])
failures = []

def ok(name, t0=None):
    print(f"  ok   {name}" + (f"  ({time.monotonic() - t0:.3f} s)" if t0 is not None else ""))

def bad(name, why):
    print(f"  FAIL {name}: {why}")
    failures.append(name)

def imaps(user, pw=PW):
    c = imaplib.IMAP4_SSL(H, IMAPS, ssl_context=CTX, timeout=10)
    c.login(user, pw)
    return c

def wait_subject(user, subject, timeout=15.0, pw=PW):
    """Poll user's INBOX until a message with this subject is there; return seconds waited."""
    t0 = time.monotonic()
    c = imaps(user, pw)
    try:
        while True:
            c.select("INBOX", readonly=True)
            typ, data = c.search(None, "SUBJECT", f'"{subject}"')
            if typ == "OK" and data[0].split():
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"no message '{subject}' in {user}'s INBOX after {timeout} s")
            time.sleep(0.1)
    finally:
        c.logout()

def plain_mail(frm, to, subject):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = frm, to, subject
    m["Message-ID"] = f"<{uuid.uuid4()}@selftest.mailstack.test>"
    m.set_content("selftest\n")
    return m

def check(name, fn):
    t0 = time.monotonic()
    try:
        extra = fn()
        print(f"  ok   {name}  ({time.monotonic() - t0:.3f} s)" + (f"  {extra}" if extra else ""))
    except Exception as e:  # noqa: BLE001 -- report and go on with the other checks
        bad(name, f"{type(e).__name__}: {e}")

# ---------------------------------------------------------------------------------------------
def imaps_login():
    c = imaps("support@example.test")
    typ, _ = c.select("INBOX")
    assert typ == "OK"
    c.logout()

def imaps_wrong_ca():
    for name, ctx in (("system roots", ssl.create_default_context()),
                      ("unrelated CA", ssl.create_default_context(cafile=env["MAILSTACK_OTHER_CA_FILE"]))):
        try:
            imaplib.IMAP4_SSL(H, IMAPS, ssl_context=ctx, timeout=10).logout()
        except ssl.SSLCertVerificationError:
            continue
        raise AssertionError(f"TLS handshake trusting only the {name} succeeded")

def imap_starttls():
    c = imaplib.IMAP4(H, IMAP, timeout=10)
    c.starttls(ssl_context=CTX)
    c.login("support@example.test", PW)
    c.logout()
    # plaintext login without TLS is allowed on loopback (disable_plaintext_auth = no)
    c = imaplib.IMAP4(H, IMAP, timeout=10)
    c.login("escalations@example.test", PW)
    c.logout()

def smtp_to_support():
    subject = f"hello {uuid.uuid4().hex[:12]}"
    t0 = time.monotonic()
    subprocess.run([os.environ["MS"], "send", "customer@acme.test", "support@example.test", subject],
                   check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, MAILSTACK_STATE_DIR=env["MAILSTACK_STATE_DIR"]))
    sent = time.monotonic() - t0
    waited = wait_subject("support@example.test", subject)
    return f"send {sent:.3f} s, in INBOX after {waited:.3f} s more"

def submission():
    s = smtplib.SMTP(H, SUBM, timeout=10)
    s.ehlo("selftest.example.test")
    assert not s.has_extn("auth"), "AUTH offered before STARTTLS"
    s.starttls(context=CTX)
    s.ehlo("selftest.example.test")
    assert s.has_extn("auth"), "AUTH not offered after STARTTLS"
    try:
        s.login("support@example.test", "wrong-" + PW)
        raise AssertionError("submission AUTH with a wrong password succeeded")
    except smtplib.SMTPAuthenticationError:
        pass
    s.login("support@example.test", PW)
    subject = f"submission {uuid.uuid4().hex[:12]}"
    t0 = time.monotonic()
    s.send_message(plain_mail("support@example.test", "customer@acme.test", subject))
    s.quit()
    waited = wait_subject("customer@acme.test", subject)
    return f"in customer@acme.test INBOX {waited:.3f} s after submission"

def submission_requires_auth():
    s = smtplib.SMTP(H, SUBM, timeout=10)
    s.starttls(context=CTX)
    try:
        s.send_message(plain_mail("x@acme.test", "support@example.test", "unauthenticated"))
        raise AssertionError("unauthenticated submission accepted")
    except smtplib.SMTPRecipientsRefused:
        pass
    finally:
        s.quit()

def smtp_starttls():
    s = smtplib.SMTP(H, SMTP, timeout=10)
    s.starttls(context=CTX)
    subject = f"smtp-starttls {uuid.uuid4().hex[:12]}"
    s.send_message(plain_mail("customer@acme.test", "escalations@example.test", subject))
    s.quit()
    wait_subject("escalations@example.test", subject)

def plus_and_catchall():
    tag = uuid.uuid4().hex[:12]
    with smtplib.SMTP(H, SMTP, timeout=10) as s:
        s.send_message(plain_mail("customer@acme.test", f"support+tok{tag}@example.test", f"plus {tag}"))
        s.send_message(plain_mail("customer@acme.test", f"it-lead@acme.test", f"catchall {tag}"))
        s.send_message(plain_mail("customer@acme.test", f"Agent@Agents.Example.Test", f"case {tag}"))
        try:
            s.send_message(plain_mail("customer@acme.test", "someone@example.com", "outside"))
            raise AssertionError("mail to a non-.test domain was accepted")
        except smtplib.SMTPRecipientsRefused:
            pass
    wait_subject("support@example.test", f"plus {tag}")
    wait_subject(env["MAILSTACK_CATCHALL"], f"catchall {tag}")
    wait_subject("agent@agents.example.test", f"case {tag}")

def wrong_password_no_penalty():
    for _ in range(3):
        c = imaplib.IMAP4_SSL(H, IMAPS, ssl_context=CTX, timeout=30)
        t0 = time.monotonic()
        try:
            c.login("support@example.test", "not-the-password")
            raise AssertionError("wrong password accepted")
        except imaplib.IMAP4.error:
            pass
        refused = time.monotonic() - t0
        c.logout()
    t0 = time.monotonic()
    c = imaps("support@example.test")
    took = time.monotonic() - t0
    c.logout()
    assert took < 1.0, f"correct login after wrong passwords took {took:.3f} s"
    return f"last refusal {refused:.3f} s, next correct login (connect+TLS+LOGIN) {took:.3f} s"

def idle_latency():
    c = imaps("oncall@example.test")
    c.select("INBOX")
    tag = c._new_tag().decode()
    c.send(f"{tag} IDLE\r\n".encode())
    assert c.readline().startswith(b"+"), "no IDLE continuation"
    subject = f"idle {uuid.uuid4().hex[:12]}"
    with smtplib.SMTP(H, SMTP, timeout=10) as s:
        s.send_message(plain_mail("customer@acme.test", "oncall@example.test", subject))
        t0 = time.monotonic()  # SMTP accepted (after DATA's 250)
    c.sock.settimeout(10)
    while True:
        line = c.readline()
        if not line:
            raise AssertionError("connection closed during IDLE")
        if line.rstrip().endswith(b"EXISTS"):
            break
    took = time.monotonic() - t0
    c.send(b"DONE\r\n")
    c.readline()
    c.logout()
    return f"SMTP accept -> IDLE EXISTS {took:.3f} s"

def many_connections():
    conns = [imaps("support@example.test") for _ in range(20)]
    for c in conns:
        c.logout()

# --- runtime users of it.example.test (mailstack.sh add-user) and restart-dovecot ---
IT = env["MAILSTACK_IT_DOMAIN"]
USERS_DIR = env["MAILSTACK_USERS_DIR"]
PERSIST_USER, PERSIST_PW = f"selftest-persist@{IT}", "persist-pw"

def ms(*args):
    """scripts/mailstack.sh ARGS against this stack; its stdout (AssertionError on failure)."""
    p = subprocess.run([os.environ["MS"], *args], capture_output=True, text=True,
                       env=dict(os.environ, MAILSTACK_STATE_DIR=env["MAILSTACK_STATE_DIR"]))
    if p.returncode != 0:
        raise AssertionError(f"mailstack.sh {' '.join(args)} failed ({p.returncode}): {p.stdout}{p.stderr}")
    return p.stdout

def imap_plain(user, pw):
    c = imaplib.IMAP4(H, IMAP, timeout=10)
    c.login(user, pw)
    return c

def dovecot_pid():
    return open(os.path.join(env["MAILSTACK_STATE_DIR"], "pids", "dovecot.pid")).read().strip()

def add_user_and_delivery():
    tag = uuid.uuid4().hex[:10]
    user, pw = f"selftest-{tag}@{IT}", f"pw-{tag}"
    t0 = time.monotonic()
    out = ms("add-user", user, pw)
    added = time.monotonic() - t0
    assert "added" in out, out
    imap_plain(user, pw).logout()  # at once: no passwd-file re-read delay for a new user
    with smtplib.SMTP(H, SMTP, timeout=10) as s:
        t0 = time.monotonic()
        s.send_message(plain_mail("customer@acme.test", user, f"fresh {tag}"))
        s.send_message(plain_mail("customer@acme.test", f"selftest-{tag}+detail@{IT}", f"fresh plus {tag}"))
    wait_subject(user, f"fresh {tag}", pw=pw)
    wait_subject(user, f"fresh plus {tag}", pw=pw)
    return f"add-user {added:.3f} s, login right after it, SMTP -> INBOX {time.monotonic() - t0:.3f} s"

def add_user_rules():
    tag = uuid.uuid4().hex[:10]
    user = f"selftest-idem-{tag}@{IT}"
    assert "added" in ms("add-user", user.upper())  # default password: the stack's; lowercased
    assert "already present" in ms("add-user", user)
    imap_plain(user, PW).logout()
    assert "changed the password" in ms("add-user", user, f"changed-{tag}")
    imap_plain(user, f"changed-{tag}").logout()
    path = os.path.join(USERS_DIR, user)
    assert open(path).read() == f"{user}:{{PLAIN}}changed-{tag}::::::\n", open(path).read()
    st = os.stat(path)
    assert (st.st_mode & 0o777, grp.getgrgid(st.st_gid).gr_name) == (0o640, "dovecot"), oct(st.st_mode)
    for bad in [f"x@acme.test", f"a+b@{IT}", f".x@{IT}", f"x@sub.{IT}"]:
        try:
            ms("add-user", bad)
        except AssertionError:
            continue
        raise AssertionError(f"add-user {bad} was accepted")
    for bad_pw in ["with space", "col:on"]:
        try:
            ms("add-user", user, bad_pw)
        except AssertionError:
            continue
        raise AssertionError(f"add-user with password {bad_pw!r} was accepted")
    ms("add-user", PERSIST_USER, PERSIST_PW)  # checked again after stop + start

def concurrent_add_user():
    tag = uuid.uuid4().hex[:10]
    users = [f"selftest-par{i}-{tag}@{IT}" for i in range(20)]
    run_env = dict(os.environ, MAILSTACK_STATE_DIR=env["MAILSTACK_STATE_DIR"])
    t0 = time.monotonic()
    procs = [subprocess.Popen([os.environ["MS"], "add-user", u, f"pw{i}"], env=run_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for i, u in enumerate(users)]
    procs += [subprocess.Popen([os.environ["MS"], "add-user", users[0], "pw0"], env=run_env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(5)]
    for p in procs:
        assert p.wait() == 0, p.stderr.read()
    took = time.monotonic() - t0
    for i, u in enumerate(users):
        imap_plain(u, f"pw{i}").logout()
    left = [f for f in os.listdir(USERS_DIR) if f.startswith(".")]
    assert not left, f"temporary files left in {USERS_DIR}: {left}"
    return f"20 users + 5 duplicate calls at once: {took:.3f} s, all log in"

def unknown_it_address_bounces():
    tag = uuid.uuid4().hex[:10]
    sender, pw = f"selftest-sender-{tag}@{IT}", f"pw-{tag}"
    ms("add-user", sender, pw)
    with smtplib.SMTP(H, SMTP, timeout=10) as s:
        s.send_message(plain_mail(sender, f"nobody-{tag}@{IT}", f"nobody {tag}"))
    wait_subject(sender, "Undelivered Mail Returned to Sender", pw=pw)
    c = imaps(env["MAILSTACK_CATCHALL"])
    c.select("INBOX", readonly=True)
    typ, data = c.search(None, "SUBJECT", f'"nobody {tag}"')
    c.logout()
    assert typ == "OK" and not data[0].split(), "the catch-all got mail for an unknown it.example.test address"

def restart_dovecot():
    tag = uuid.uuid4().hex[:10]
    user, pw = f"selftest-restart-{tag}@{IT}", f"pw-{tag}"
    ms("add-user", user, pw)
    with smtplib.SMTP(H, SMTP, timeout=10) as s:
        s.send_message(plain_mail("customer@acme.test", user, f"before {tag}"))
    wait_subject(user, f"before {tag}", pw=pw)
    c = imap_plain(user, pw)
    c.select("INBOX")
    old = dovecot_pid()
    t0 = time.monotonic()
    ms("restart-dovecot")
    took = time.monotonic() - t0
    assert dovecot_pid() != old, "restart-dovecot kept the old pid"
    c.sock.settimeout(5)
    cut = c.sock.recv(200)  # the old connection was told and closed
    assert cut.startswith(b"* BYE") or cut == b"", cut
    wait_subject(user, f"before {tag}", pw=pw, timeout=2)  # mail and runtime user kept
    with smtplib.SMTP(H, SMTP, timeout=10) as s:
        s.send_message(plain_mail("customer@acme.test", user, f"after {tag}"))
    waited = wait_subject(user, f"after {tag}", pw=pw)
    return f"restart {took:.2f} s (old connection got {cut.strip()!r}), next mail in INBOX {waited:.3f} s later"

def runtime_user_kept():
    imap_plain(PERSIST_USER, PERSIST_PW).logout()

# ---------------------------------------------------------------------------------------------
suite = sys.argv[1]
if suite == "full":
    check("IMAPS :%d login support@example.test with the generated CA" % IMAPS, imaps_login)
    check("IMAPS refuses clients that do not trust the generated CA", imaps_wrong_ca)
    check("IMAP :%d STARTTLS login (and plain login on loopback)" % IMAP, imap_starttls)
    check("mailstack.sh send customer@acme.test -> support@example.test arrives", smtp_to_support)
    check("submission :%d STARTTLS + AUTH support@ -> customer@acme.test arrives" % SUBM, submission)
    check("submission refuses unauthenticated senders", submission_requires_auth)
    check("SMTP :%d STARTTLS delivery" % SMTP, smtp_starttls)
    check("support+tag@ to support, unknown *.test to catch-all, non-.test refused", plus_and_catchall)
    check("wrong password refused, next correct login < 1 s", wrong_password_no_penalty)
    check("IDLE sees a new SMTP mail", idle_latency)
    check("20 simultaneous IMAP connections of one user", many_connections)
    check(f"add-user a fresh {IT} user: login at once, SMTP (and +detail) to its INBOX", add_user_and_delivery)
    check("add-user: idempotent, password change, file format/permissions, bad input refused", add_user_rules)
    check("add-user: 20 parallel calls (+5 for the same user)", concurrent_add_user)
    check(f"unknown {IT} address bounces to the sender, not to the catch-all", unknown_it_address_bounces)
    check("restart-dovecot: new pid, old connection cut, users and mail kept, delivery at once", restart_dovecot)
elif suite == "runtime-users":
    check(f"a runtime user ({PERSIST_USER}) survives stop + start", runtime_user_kept)
elif suite == "quick":
    check("IMAPS :%d login" % IMAPS, imaps_login)
    check("SMTP :%d delivery to support@example.test" % SMTP, smtp_to_support)
else:
    sys.exit(f"unknown suite {suite}")
if failures:
    print(f"  {len(failures)} check(s) failed: {', '.join(failures)}")
    sys.exit(1)
PY
}
export MS

# ---------------------------------------------------------------------------------------------
step "install"
t=$EPOCHREALTIME
"$MS" install
echo "  install: $(ms "$t") s"

before=$(mail_procs | wc -l)
((before == 0)) || echo "  note: $before Postfix/Dovecot process(es) of other stacks already running; the global 'no process left' check is skipped"

step "start from scratch in $ST1"
"$MS" stop "$ST1" >/dev/null
"$MS" stop "$ST2" >/dev/null
rm -rf "$ST1" "$ST2"
t=$EPOCHREALTIME
"$MS" start "$ST1"
echo "  first start (CA + certificates + config + both daemons + all ports up): $(ms "$t") s"
pids1=$(cat "$ST1"/pids/*.pid)

step "start again (must be harmless)"
t=$EPOCHREALTIME
out=$("$MS" start "$ST1")
echo "$out" | head -n 1
echo "  second start: $(ms "$t") s"
grep -q "already running" <<<"$out" || fail "second start did not report 'already running'"
[[ $(cat "$ST1"/pids/*.pid) == "$pids1" ]] || fail "second start changed the daemons' pids"
"$MS" status "$ST1" >/dev/null || fail "status reports the stack unhealthy"

step "checks against $ST1"
MAILSTACK_ENV=$ST1/env py full

step "a second stack beside it on ports +$OFFSET, in $ST2"
ports2=()
while IFS='=' read -r k v; do
    case $k in MAILSTACK_*_PORT) ports2+=("$k=$((v + OFFSET))") ;; esac
done <"$ST1/env"
t=$EPOCHREALTIME
env "${ports2[@]}" "$MS" start "$ST2" >/dev/null
echo "  second stack started in $(ms "$t") s (IMAPS port $(sed -n 's/^MAILSTACK_IMAPS_PORT=//p' "$ST2/env"))"
MAILSTACK_ENV=$ST2/env py quick
MAILSTACK_ENV=$ST1/env py quick
procs2=$(stack_procs "$ST2")
t=$EPOCHREALTIME
"$MS" stop "$ST2"
echo "  stop: $(ms "$t") s"
for p in $procs2; do ! alive "$p" || fail "process $p of the second stack still running after stop"; done
MAILSTACK_ENV=$ST1/env py quick

step "stop leaves no process behind"
procs1=$(stack_procs "$ST1")
t=$EPOCHREALTIME
"$MS" stop "$ST1"
echo "  stop: $(ms "$t") s ($(wc -w <<<"$procs1") processes)"
for p in $procs1; do ! alive "$p" || fail "process $p still running after stop"; done
if ((before == 0)); then
    left=$(mail_procs)
    [[ -z $left ]] || fail "Postfix/Dovecot processes still running after stop: $left"
fi
! "$MS" status "$ST1" >/dev/null || fail "status claims a stopped stack is up"
echo "  ok   no Postfix/Dovecot process left"

step "start again after stop"
t=$EPOCHREALTIME
"$MS" start "$ST1" >/dev/null
echo "  restart (certificates kept): $(ms "$t") s"
MAILSTACK_ENV=$ST1/env py quick
MAILSTACK_ENV=$ST1/env py runtime-users
"$MS" stop "$ST1"

echo
echo "SELFTEST PASSED in $(ms "$T_START") s"
