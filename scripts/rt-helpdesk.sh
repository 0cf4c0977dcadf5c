#!/usr/bin/env bash
# Request Tracker 5 (Debian 12 packages) as a real helpdesk on loopback for deskline's tests.
#
#   scripts/rt-helpdesk.sh install   apt-get install request-tracker5 rt5-db-sqlite rt5-standalone (root)
#   scripts/rt-helpdesk.sh init      fresh SQLite DB, site config, user CF "Phone", API token (stops a running server)
#   scripts/rt-helpdesk.sh start     rt-server on 127.0.0.1:$RT_PORT; waits until REST 2.0 answers
#   scripts/rt-helpdesk.sh seed      agents, contacts with phone numbers and one ticket via REST 2.0 (repeatable)
#   scripts/rt-helpdesk.sh stop      stop the server started by 'start' (by its PID)
#   scripts/rt-helpdesk.sh all       stop, install, init, start, seed: a fresh seeded server every time
#
# Everything lives under $RT_HOME (default /tmp/rt-helpdesk); nothing is written under /etc
# (RT reads $RT_SITE_CONFIG and $RT_SITE_CONFIG_DIR). Mail is never sent (MailCommand testfile).
# After 'seed', $RT_HOME/env holds the facts tests need (KEY=value lines, see write_env).
set -euo pipefail

RT_HOME=${RT_HOME:-/tmp/rt-helpdesk}
RT_PORT=${RT_PORT:-8080}
RT_ROOT_PASSWORD=${RT_ROOT_PASSWORD:-rootpass123}
RT_WORKERS=${RT_WORKERS:-2}
RT_DOMAIN=helpdesk.test
export RT_SITE_CONFIG="$RT_HOME/etc/RT_SiteConfig.pm"
export RT_SITE_CONFIG_DIR="$RT_HOME/etc/RT_SiteConfig.d"
URL="http://127.0.0.1:$RT_PORT"
API="$URL/REST/2.0"
PIDFILE="$RT_HOME/rt-server.pid"
PACKAGES=(request-tracker5 rt5-db-sqlite rt5-standalone curl)

alive() { # pid: running and not a zombie waiting to be reaped by init
    local state
    state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

log() { printf '[rt-helpdesk %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

installed() {
    local p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 1
    done
}

do_install() {
    if installed; then return 0; fi
    [ "$(id -u)" = 0 ] || die "installing RT5 needs root (apt-get)"
    local t0=$SECONDS
    # No dbconfig-common database (init makes its own), no cron jobs, a local-only MTA.
    debconf-set-selections <<EOF
request-tracker5 request-tracker5/dbconfig-install boolean false
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/rtname string $RT_DOMAIN
request-tracker5 request-tracker5/organization string $RT_DOMAIN
request-tracker5 request-tracker5/correspondaddress string rt@$RT_DOMAIN
request-tracker5 request-tracker5/commentaddress string rt-comment@$RT_DOMAIN
request-tracker5 request-tracker5/webbaseurl string $URL
exim4-config exim4/dc_eximconfig_configtype select local delivery only; not on a network
EOF
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${PACKAGES[@]}" >/dev/null 2>"$TMPDIR_LOG" || { cat "$TMPDIR_LOG" >&2; die "apt-get install failed"; }
    log "installed RT $(dpkg-query -W -f='${Version}' request-tracker5) in $((SECONDS - t0)) s"
}

do_init() {
    installed || die "RT5 is not installed: run '$0 install' first"
    do_stop
    rm -rf "$RT_HOME"
    mkdir -p "$RT_SITE_CONFIG_DIR" "$RT_HOME/var"
    cat > "$RT_SITE_CONFIG" <<EOF
Set(\$rtname, '$RT_DOMAIN');
Set(\$Organization, '$RT_DOMAIN');
Set(\$CorrespondAddress, 'rt@$RT_DOMAIN');
Set(\$CommentAddress, 'rt-comment@$RT_DOMAIN');
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $RT_PORT);
Set(\$WebPath, '');
Set(\$WebBaseURL, '$URL');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, '$RT_HOME/var/rtdb');
Set(\$LogToSTDERR, 'warning');
Set(\$LogToSyslog, undef);
Set(\$LogToFile, undef);
Set(\$MailCommand, 'testfile');
Set(\$Timezone, 'UTC');
1;
EOF
    # REST 2.0 can search user custom fields but silently ignores conditions on the built-in
    # WorkPhone/MobilePhone columns, so phone numbers also go into a multi-value user CF "Phone".
    cat > "$RT_HOME/etc/initialdata.pl" <<'EOF'
@CustomFields = ({ Name => 'Phone', Type => 'FreeformMultiple', LookupType => 'RT::User',
                   Description => 'Phone numbers (E.164)' });
@Groups = ({ Name => 'Agents', Description => 'Helpdesk agents' });
@ACL = (map { +{ GroupDomain => 'SystemInternal', GroupType => 'Privileged', Right => $_ } }
        qw(SeeCustomField ModifyCustomField ShowTicket CreateTicket ReplyToTicket CommentOnTicket
           OwnTicket ModifyTicket SeeQueue ShowTicketComments));
1;
EOF
    # RT 5 has no REST endpoint that creates API tokens; use RT's Perl API.
    cat > "$RT_HOME/etc/mktoken.pl" <<'EOF'
use strict; use warnings;
use lib '/usr/share/request-tracker5/lib';
use RT; RT::LoadConfig(); RT::Init();
my ($name, $desc) = @ARGV;
my $user = RT::User->new(RT->SystemUser);
$user->Load($name); die "no user $name\n" unless $user->Id;
my ($ok, $msg, $auth) = RT::AuthToken->new(RT::CurrentUser->new(RT->SystemUser))
    ->Create(Owner => $user->Id, Description => $desc);
die "token: $msg\n" unless $ok;
print "$auth\n";
EOF
    printf '%s\n' "$RT_ROOT_PASSWORD" > "$RT_HOME/var/rootpw"
    local setup=/usr/sbin/rt-setup-database-5 out="$RT_HOME/var/setup.log"
    "$setup" --action init --root-password-file "$RT_HOME/var/rootpw" >"$out" 2>&1 \
        || { cat "$out" >&2; die "rt-setup-database init failed"; }
    "$setup" --action insert --datafile "$RT_HOME/etc/initialdata.pl" >>"$out" 2>&1 \
        || { cat "$out" >&2; die "rt-setup-database insert failed"; }
    perl "$RT_HOME/etc/mktoken.pl" root deskline-tests 2>>"$out" | tail -1 > "$RT_HOME/var/root.token"
    [ -s "$RT_HOME/var/root.token" ] || { cat "$out" >&2; die "could not create the API token"; }
}

do_start() {
    [ -f "$RT_SITE_CONFIG" ] || die "not initialised: run '$0 init' first"
    if [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; then return 0; fi
    if curl -s -o /dev/null "$URL/"; then die "port $RT_PORT is already in use by another process"; fi
    nohup /usr/share/request-tracker5/libexec/rt-server --server Starlet \
        --max-workers "$RT_WORKERS" --host 127.0.0.1 --port "$RT_PORT" \
        > "$RT_HOME/rt-server.log" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    local _
    for _ in $(seq 1 240); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' -u "root:$RT_ROOT_PASSWORD" "$API/rt")" = 200 ] && return 0
        alive "$(cat "$PIDFILE")" || { cat "$RT_HOME/rt-server.log" >&2; die "rt-server exited"; }
        sleep 0.25
    done
    cat "$RT_HOME/rt-server.log" >&2; die "RT did not answer within 60 s"
}

do_stop() {
    [ -f "$PIDFILE" ] || return 0
    local pid _
    pid=$(cat "$PIDFILE")
    kill "$pid" 2>/dev/null || true   # the Starlet master stops its workers on TERM
    for _ in $(seq 1 40); do alive "$pid" || break; sleep 0.25; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    # workers can outlive the master for a moment; wait until nothing answers on the port
    for _ in $(seq 1 40); do curl -s -o /dev/null -m 1 "$URL/" || break; sleep 0.25; done
    rm -f "$PIDFILE"
}

do_seed() {
    [ -s "$RT_HOME/var/root.token" ] || die "not initialised: run '$0 init' first"
    RT_API="$API" RT_TOKEN="$(cat "$RT_HOME/var/root.token")" RT_DOMAIN="$RT_DOMAIN" \
        python3 - > "$RT_HOME/var/seed.out" <<'EOF'
"""Seed RT through REST 2.0: agents (privileged, group Agents), contacts with phones, a ticket."""
import json, os, sys, urllib.error, urllib.parse, urllib.request
api, token, domain = os.environ["RT_API"], os.environ["RT_TOKEN"], os.environ["RT_DOMAIN"]

def call(method, path, body=None, missing_ok=False):
    req = urllib.request.Request(f"{api}/{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as exc:
        if missing_ok and exc.code == 404:
            return None
        sys.exit(f"seed: {method} {path} -> HTTP {exc.code} {exc.read()[:300]!r}")

def ensure_user(body):
    """Create the user unless it exists (seeding twice is harmless); return its numeric id."""
    found = call("GET", f"user/{body['Name']}", missing_ok=True)
    if found is None:
        call("POST", "user", body)
        found = call("GET", f"user/{body['Name']}")
    return found["id"]

agent_ids = [ensure_user({"Name": f"agent{i}", "EmailAddress": f"agent{i}@{domain}", "RealName": f"Agent {i}",
                          "Privileged": 1, "Password": f"agentpass{i}"}) for i in range(1, 6)]
group = call("POST", "groups", [{"field": "Name", "value": "Agents"}])["items"][0]["id"]
call("PUT", f"group/{group}/members", agent_ids)
contacts = [
    ("alice@example.com", "Alice Anders", "Acme", {"WorkPhone": "+15550100", "MobilePhone": "+15550101"}),
    ("bob@example.com", "Bob Brown", "", {"WorkPhone": "+15550200"}),
    ("carol@example.com", "Carol Chen", "", {"MobilePhone": "+15550300"}),
    # two people behind one company switchboard number
    ("frank@globex.example", "Frank Fischer", "Globex", {"WorkPhone": "+15557000"}),
    ("grace@globex.example", "Grace Green", "Globex", {"WorkPhone": "+15557000", "MobilePhone": "+15557001"}),
]
for email, name, org, phones in contacts:
    body = {"Name": email, "EmailAddress": email, "RealName": name, **phones,
            "CustomFields": {"Phone": sorted(set(phones.values()))}}
    if org:
        body["Organization"] = org
    ensure_user(body)
seeded = call("GET", "tickets?query=" + urllib.parse.quote("Subject = 'Seed ticket'"))["items"]
ticket = seeded[0]["id"] if seeded else call("POST", "ticket", {
    "Queue": "General", "Subject": "Seed ticket", "Requestor": "alice@example.com", "Owner": "agent1",
    "Content": "seeded", "ContentType": "text/plain"})["id"]
print(f"RT_AGENTS_GROUP_ID={group}\nRT_SEED_TICKET_ID={ticket}")
EOF
    write_env
}

write_env() {
    local tmp="$RT_HOME/env.tmp"
    cat > "$tmp" <<EOF
RT_URL=$URL
RT_API=$API
RT_USER=root
RT_PASSWORD=$RT_ROOT_PASSWORD
RT_TOKEN=$(cat "$RT_HOME/var/root.token")
RT_AGENT_USER=agent1
RT_AGENT_PASSWORD=agentpass1
RT_AGENT_DOMAIN=$RT_DOMAIN
RT_AGENT_COUNT=5
RT_QUEUE=General
EOF
    cat "$RT_HOME/var/seed.out" >> "$tmp"
    mv "$tmp" "$RT_HOME/env"
}

TMPDIR_LOG=$(mktemp)
trap 'rm -f "$TMPDIR_LOG"' EXIT

case "${1:-}" in
    install) do_install ;;
    init)    do_init ;;
    start)   do_start ;;
    seed)    do_seed ;;
    stop)    do_stop ;;
    all)     t0=$SECONDS; do_stop; do_install; do_init; do_start; do_seed
             log "seeded RT on $URL in $((SECONDS - t0)) s (env: $RT_HOME/env)" ;;
    *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
