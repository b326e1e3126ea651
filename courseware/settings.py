"""One settings module, driven by the environment, with safe development defaults.

Environment variables:
  DJANGO_DEBUG        "0" (default) or "1" (tracebacks; `make dev`)
  DJANGO_SECRET_KEY   default: the install's own key in .secret_key (generated once)
  DJANGO_ALLOWED_HOSTS comma-separated (default: localhost,127.0.0.1,[::1])
  DATABASE_URL        e.g. postgres://user:pw@host/db (default: SQLite file db.sqlite3)
  REDIS_URL           e.g. redis://127.0.0.1:6379/0 — switches the channel layer to
                      channels_redis so several daphne processes share labs and rooms
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

# Safe by default (issue 8): `make run` serves with DEBUG off; `make dev` or DJANGO_DEBUG=1
# turns on tracebacks and the URL list on 404s.
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"


def _secret_key() -> str:
    """DJANGO_SECRET_KEY, else the install's own key in ``.secret_key`` (git-ignored),
    generated once on first use (``make setup`` does it) so no key ever lives in git."""
    from_env = os.environ.get("DJANGO_SECRET_KEY")
    if from_env:
        return from_env
    path = BASE_DIR / ".secret_key"
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if not key:
        import secrets

        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "courseware.jobs",
    "courseware.lab",
    "courseware.course",
    "courseware.rooms",
    "courseware.exercises",
    "courseware.gradebook",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
# Lessons embed the lab in an iframe from the same origin.
X_FRAME_OPTIONS = "SAMEORIGIN"

ROOT_URLCONF = "courseware.urls"
ASGI_APPLICATION = "courseware.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=600
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # daphne and the worker write the same file: WAL lets readers through while one writes,
    # IMMEDIATE transactions take the write lock up front instead of failing half-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })

# ---- background work (courseware.jobs; docs/JOBS.md) --------------------------------------
# Replays, grading and measurements run in `manage.py worker` (make run starts it), never in
# daphne. The queue is the database (django-tasks' DatabaseBackend).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
JOBS_LEASE_SECONDS = float(os.environ.get("JOBS_LEASE_SECONDS", "30"))
JOBS_HEARTBEAT_SECONDS = float(os.environ.get("JOBS_HEARTBEAT_SECONDS", "2"))

REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "courseware.channel_layer.RedisChannelLayer",  # a pool that waits
            # redis-py 8 reads with a 5 s socket timeout by default, exactly as long as
            # channels_redis blocks in BZPOPMIN: give the read more time than the block.
            # channels_redis keeps every process-specific channel of a process (each
            # socket's, each lab runner's) in ONE Redis queue, and ``capacity`` bounds that
            # whole queue, not one socket's: 150 followers of a room attaching to one process
            # at once are 150 full frames queued there.  At 200 the overflow was dropped
            # silently (room_bench, 300 followers on 2 processes: 1 in 4 followers on the
            # owner's process never got a frame).  Messages still expire after 30 s.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                       "capacity": int(os.environ.get("REDIS_LAYER_CAPACITY", "5000")),
                       "expiry": 30},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 200}}
    }

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / ".staticfiles"

# Bounded request parsing (issue 8): Django answers 400 beyond these instead of working on them.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# ---- the live lab (courseware.lab; docs/PROTOCOL.md) --------------------------------------
# Per-process caps: past LAB_MAX_SESSIONS labs a server answers with a message naming the cap.
LAB_MAX_SESSIONS = int(os.environ.get("LAB_MAX_SESSIONS", "64"))  # live labs per process
LAB_MAX_RATE = int(os.environ.get("LAB_MAX_RATE", "100000"))  # records/s of one lab's workload
# No cap on the process's total records/s: busy labs share the CPU and run slower (and say so).
LAB_IDLE_SECONDS = int(os.environ.get("LAB_IDLE_SECONDS", "600"))  # reap labs nobody watches
LAB_FRAME_HZ = float(os.environ.get("LAB_FRAME_HZ", "20"))  # frames per second (at most 30)
# Fair shares (courseware.lab.quotas): budgets shared by all sockets of a browser session and
# by all sessions behind one client address; labs and sockets per session and per address.
LAB_WS_RATE = float(os.environ.get("LAB_WS_RATE", "20"))  # messages/s per session (burst 2x)
LAB_IP_RATE = float(os.environ.get("LAB_IP_RATE", "200"))  # messages/s per client address
LAB_REBUILD_RATE = float(os.environ.get("LAB_REBUILD_RATE", "0.5"))  # reset/preset/workload per s
LAB_MAX_SOCKETS_PER_SESSION = int(os.environ.get("LAB_MAX_SOCKETS_PER_SESSION", "16"))
LAB_MAX_SOCKETS_PER_IP = int(os.environ.get("LAB_MAX_SOCKETS_PER_IP", "256"))
LAB_MAX_LABS_PER_SESSION = int(os.environ.get("LAB_MAX_LABS_PER_SESSION", "8"))
LAB_MAX_LABS_PER_IP = int(os.environ.get("LAB_MAX_LABS_PER_IP", "48"))
# unwatched (frozen) labs a session keeps beyond those it watches; older ones are stopped
LAB_KEEP_UNWATCHED_PER_SESSION = int(os.environ.get("LAB_KEEP_UNWATCHED_PER_SESSION", "2"))
# Bounded work: commands waiting for answers per socket, how long an answer may take, and the
# threads that build simulations off the event loop.
LAB_MAX_PENDING = int(os.environ.get("LAB_MAX_PENDING", "8"))
LAB_COMMAND_TIMEOUT = float(os.environ.get("LAB_COMMAND_TIMEOUT", "10"))
LAB_BUILD_THREADS = int(os.environ.get("LAB_BUILD_THREADS", "2"))
LAB_MAX_PENDING_BUILDS = int(os.environ.get("LAB_MAX_PENDING_BUILDS", "8"))
# Rooms (courseware.rooms): join attempts per client address (a token bucket per process)
ROOM_JOIN_RATE = float(os.environ.get("ROOM_JOIN_RATE", "0.5"))  # per second, on average
ROOM_JOIN_BURST = float(os.environ.get("ROOM_JOIN_BURST", "10"))
