#!/usr/bin/env bash
# django-helpdesk + Django REST framework + django-oauth-toolkit (all from PyPI) as a real
# helpdesk on loopback that is also a real OAuth2 authorization server, for deskline's tests.
#
#   scripts/dh-helpdesk.sh install   venv under $DH_HOME + pinned pip install
#   scripts/dh-helpdesk.sh init      Django site files + fresh SQLite DB (migrate); stops running servers
#   scripts/dh-helpdesk.sh seed      admin, agents, queue, DRF tokens, OAuth2 app; writes $DH_HOME/env (repeatable)
#   scripts/dh-helpdesk.sh start     two runserver instances on one DB, waits until both answer:
#                                      127.0.0.1:$DH_PORT        access tokens live $DH_ACCESS_TOKEN_TTL s (3600)
#                                      127.0.0.1:$DH_SHORT_PORT  access tokens live $DH_SHORT_TOKEN_TTL s (2)
#   scripts/dh-helpdesk.sh stop      stop both (by PID)
#   scripts/dh-helpdesk.sh all       stop, install, init, seed, start: fresh every time
#
# The short-TTL instance is how tests get expiring tokens: run the OAuth2 flow against
# DH_SHORT_URL; the token it issues is stored in the shared DB, so it expires on both instances.
set -euo pipefail

DH_HOME=${DH_HOME:-/tmp/dh-helpdesk}
DH_PORT=${DH_PORT:-8081}
DH_SHORT_PORT=${DH_SHORT_PORT:-8082}
DH_ACCESS_TOKEN_TTL=${DH_ACCESS_TOKEN_TTL:-3600}
DH_SHORT_TOKEN_TTL=${DH_SHORT_TOKEN_TTL:-2}
DH_PKCE_REQUIRED=${DH_PKCE_REQUIRED:-0}
DH_PYTHON=${DH_PYTHON:-python3}
# deskline's loopback callback first; the others are spare ports for parallel clients.
DH_REDIRECT_URIS=${DH_REDIRECT_URIS:-http://127.0.0.1:8765/callback http://127.0.0.1:8766/callback http://localhost:8765/callback}
URL="http://127.0.0.1:$DH_PORT"
SHORT_URL="http://127.0.0.1:$DH_SHORT_PORT"
SITE="$DH_HOME/site"
PY="$DH_HOME/venv/bin/python"
PINS=('django-helpdesk==2.6.1' 'Django==5.2.19' 'djangorestframework==3.18.3' 'django-oauth-toolkit==3.4.1')

alive() { # pid: running and not a zombie waiting to be reaped by init
    local state
    state=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

log() { printf '[dh-helpdesk %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

do_install() {
    mkdir -p "$DH_HOME"
    local stamp="$DH_HOME/venv/.deskline-pins" want="${PINS[*]}"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
    local t0=$SECONDS
    [ -x "$PY" ] || "$DH_PYTHON" -m venv "$DH_HOME/venv"
    "$DH_HOME/venv/bin/pip" install -q --disable-pip-version-check "${PINS[@]}" >"$DH_HOME/pip.log" 2>&1 \
        || { cat "$DH_HOME/pip.log" >&2; die "pip install failed"; }
    "$PY" -c 'import helpdesk, oauth2_provider, rest_framework' || die "installed packages do not import"
    printf '%s' "$want" > "$stamp"
    log "installed django-helpdesk into $DH_HOME/venv in $((SECONDS - t0)) s"
}

do_init() {
    [ -x "$PY" ] || die "not installed: run '$0 install' first"
    do_stop
    rm -rf "$SITE" "$DH_HOME/data" "$DH_HOME/env"
    mkdir -p "$SITE/hdsite" "$DH_HOME/data"
    cat > "$SITE/manage.py" <<'EOF'
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdsite.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
EOF
    : > "$SITE/hdsite/__init__.py"
    cat > "$SITE/hdsite/settings.py" <<'EOF'
"""Minimal Django site: django-helpdesk's DRF API guarded by django-oauth-toolkit (test use only)."""
import os
from pathlib import Path

DATA_DIR = Path(os.environ["DH_DATA_DIR"])
SECRET_KEY = "deskline-test-site-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "django.contrib.sites", "django.contrib.humanize",
    "rest_framework", "rest_framework.authtoken", "oauth2_provider", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "hdsite.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages"]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "db.sqlite3",
                         "OPTIONS": {"timeout": 20}}}
SITE_ID = 1
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
MEDIA_ROOT = DATA_DIR / "media"
LOGIN_URL = "/admin/login/"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
HELPDESK_TEAMS_MODE_ENABLED = False       # no pinax-teams
HELPDESK_ACTIVATE_API_ENDPOINT = True     # /helpdesk/api/
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [
    "oauth2_provider.contrib.rest_framework.OAuth2Authentication",   # Authorization: Bearer
    "rest_framework.authentication.TokenAuthentication",             # Authorization: Token
    "rest_framework.authentication.BasicAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]}
OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read", "write": "Write"},
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("DH_ACCESS_TOKEN_TTL", "3600")),
    "ROTATE_REFRESH_TOKEN": True,
    "PKCE_REQUIRED": os.environ.get("DH_PKCE_REQUIRED", "0") == "1",
}
EOF
    cat > "$SITE/hdsite/urls.py" <<'EOF'
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("helpdesk/", include("helpdesk.urls", namespace="helpdesk")),
]
EOF
    # A freshly migrated, empty DB is kept beside the venv (same pins, same schema) and
    # copied on later inits: migrate takes ~5 s, the copy a few ms.
    local migrated="$DH_HOME/venv/.deskline-migrated.sqlite3"
    if [ -f "$migrated" ] && [ "$migrated" -nt "$DH_HOME/venv/.deskline-pins" ]; then
        cp "$migrated" "$DH_HOME/data/db.sqlite3"
    else
        ( cd "$SITE" && DH_DATA_DIR="$DH_HOME/data" "$PY" manage.py migrate -v0 ) >"$DH_HOME/init.log" 2>&1 \
            || { cat "$DH_HOME/init.log" >&2; die "migrate failed"; }
        cp "$DH_HOME/data/db.sqlite3" "$migrated"
    fi
}

do_seed() {
    [ -f "$DH_HOME/data/db.sqlite3" ] || die "not initialised: run '$0 init' first"
    cat > "$SITE/seed.py" <<'EOF'
import os
from django.contrib.auth import get_user_model
from helpdesk.models import Queue
from oauth2_provider.models import Application
from rest_framework.authtoken.models import Token

# Idempotent: seeding twice leaves the same accounts, queue, tokens and application.
User = get_user_model()
admin = User.objects.filter(username="admin").first() or User.objects.create_superuser(
    "admin", "admin@helpdesk.test", "adminpass123", first_name="Ada", last_name="Admin")
agents = [User.objects.filter(username=f"agent{i}").first() or User.objects.create_user(
              f"agent{i}", f"agent{i}@helpdesk.test", f"agentpass{i}", is_staff=True,
              first_name="Agent", last_name=str(i)) for i in (1, 2, 3)]
queue, _ = Queue.objects.get_or_create(slug="support", defaults={"title": "Support",
                                                                 "allow_public_submission": True})
Application.objects.filter(client_id="deskline-test-client").delete()
Application.objects.create(
    name="deskline", user=admin, client_id="deskline-test-client",
    client_secret="deskline-test-secret",   # DOT stores it hashed
    client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    redirect_uris=os.environ["DH_REDIRECT_URIS"], skip_authorization=True, algorithm="")
print(f"DH_TOKEN={Token.objects.get_or_create(user=admin)[0].key}")
print(f"DH_AGENT_TOKEN={Token.objects.get_or_create(user=agents[0])[0].key}")
print(f"DH_QUEUE_ID={queue.id}")
EOF
    local out
    out=$(cd "$SITE" && DH_DATA_DIR="$DH_HOME/data" DH_REDIRECT_URIS="$DH_REDIRECT_URIS" \
          "$PY" manage.py shell -c "exec(open('seed.py').read())" 2>"$DH_HOME/seed.log") \
        || { cat "$DH_HOME/seed.log" >&2; die "seed failed"; }
    local first_redirect=${DH_REDIRECT_URIS%% *}
    cat > "$DH_HOME/env.tmp" <<EOF
DH_URL=$URL
DH_API=$URL/helpdesk/api
DH_SHORT_URL=$SHORT_URL
DH_ACCESS_TOKEN_TTL=$DH_ACCESS_TOKEN_TTL
DH_SHORT_TOKEN_TTL=$DH_SHORT_TOKEN_TTL
DH_PKCE_REQUIRED=$DH_PKCE_REQUIRED
$(printf '%s\n' "$out" | grep '^DH_[A-Z_]*=')
DH_CLIENT_ID=deskline-test-client
DH_CLIENT_SECRET=deskline-test-secret
DH_REDIRECT_URI=$first_redirect
DH_REDIRECT_URIS="$DH_REDIRECT_URIS"
DH_LOGIN_USER=agent1
DH_LOGIN_PASSWORD=agentpass1
DH_ADMIN_USER=admin
DH_ADMIN_PASSWORD=adminpass123
EOF
    mv "$DH_HOME/env.tmp" "$DH_HOME/env"
}

answers() { # url: true when an HTTP server answers there (any status); no curl needed
    "$PY" - "$1" <<'PYEOF' 2>/dev/null
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError:
    pass
PYEOF
}

start_one() { # name port ttl
    local name=$1 port=$2 ttl=$3 pidfile="$DH_HOME/$1.pid"
    if [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; then return 0; fi
    if answers "http://127.0.0.1:$port/"; then die "port $port is already in use by another process"; fi
    # exec: $! is then the Python server itself, and the caller's stdout is not held open
    ( cd "$SITE" || exit 1
      export DH_DATA_DIR="$DH_HOME/data" DH_PKCE_REQUIRED DH_ACCESS_TOKEN_TTL="$ttl"
      exec "$PY" manage.py runserver --noreload "127.0.0.1:$port" > "$DH_HOME/$name.log" 2>&1 < /dev/null ) &
    echo $! > "$pidfile"
}

wait_up() { # name port
    local pidfile="$DH_HOME/$1.pid" _
    for _ in $(seq 1 240); do
        answers "http://127.0.0.1:$2/helpdesk/api/" && return 0
        alive "$(cat "$pidfile")" || { cat "$DH_HOME/$1.log" >&2; die "$1 server exited"; }
        sleep 0.2
    done
    cat "$DH_HOME/$1.log" >&2; die "$1 server did not answer within 48 s"
}

do_start() {
    [ -f "$DH_HOME/env" ] || die "not seeded: run '$0 init' and '$0 seed' first"
    start_one server "$DH_PORT" "$DH_ACCESS_TOKEN_TTL"
    start_one short "$DH_SHORT_PORT" "$DH_SHORT_TOKEN_TTL"
    wait_up server "$DH_PORT"
    wait_up short "$DH_SHORT_PORT"
}

stop_one() {
    local pidfile="$DH_HOME/$1.pid" pid _
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do alive "$pid" || break; sleep 0.25; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

do_stop() { stop_one server; stop_one short; }

case "${1:-}" in
    install) do_install ;;
    init)    do_init ;;
    seed)    do_seed ;;
    start)   do_start ;;
    stop)    do_stop ;;
    all)     t0=$SECONDS; do_stop; do_install; do_init; do_seed; do_start
             log "django-helpdesk up on $URL and $SHORT_URL (short TTL) in $((SECONDS - t0)) s (env: $DH_HOME/env)" ;;
    *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
