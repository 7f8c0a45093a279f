"""Settings for Reseller, all from the environment or .env (see .env.example). Importing them creates nothing.

With nothing set, the panel runs on embedded defaults: SQLite and a filesystem Celery broker under var/.
"""

import ipaddress
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# .env first, before anything reads the environment (RESELLER_VAR_DIR included); the real environment wins
# over it. RESELLER_ENV_FILE names another file (an operator's, a test's); that one must exist.
if os.environ.get("RESELLER_ENV_FILE"):
    ENV_FILE = Path(os.environ["RESELLER_ENV_FILE"])
    if not ENV_FILE.is_file():
        raise ImproperlyConfigured(f"RESELLER_ENV_FILE names {ENV_FILE}, which is not a file.")
else:
    ENV_FILE = BASE_DIR / ".env"
environ.Env.read_env(ENV_FILE, overwrite=False)
env = environ.Env()

# Where the embedded defaults keep their files (SQLite, the filesystem broker, beat's schedule). Importing
# the settings creates nothing: ResellerConfig.ready() (reseller/apps.py) creates the broker's folders.
VAR_DIR = Path(env.str("RESELLER_VAR_DIR", default=str(BASE_DIR / "var")))


def whole(name, default, *, minimum=1, unit="seconds"):
    """A whole number of `unit` from the environment, at least `minimum`; empty means the default."""
    raw = env.str(name, default="").strip() or str(default)
    if not (raw.isascii() and raw.isdigit() and int(raw) >= minimum):
        what = "a positive whole number" if minimum > 0 else "a whole number"
        raise ImproperlyConfigured(f"{name} must be {what} of {unit}, not {raw!r}.")
    return int(raw)


def seconds(name, default, *, minimum=1):
    """An interval: a whole number of seconds, at least `minimum` (0 for the time between two checks:
    "at every sweep")."""
    return whole(name, default, minimum=minimum)


def decimal_value(
    name, default, *, most=None, places=5, what="an amount of 0 or more, five decimals at most"
):
    """A Decimal from the environment, 0 or more (at most `most`), with no more than `places` decimals;
    anything else stops start-up with an error naming the variable."""
    raw = env.str(name, default="").strip() or default
    try:
        value = Decimal(raw)
    except ArithmeticError:
        value = None
    fits = value is not None and value.is_finite() and value >= 0 and (most is None or value <= most)
    if not fits or value != round(value, places):
        raise ImproperlyConfigured(f"{name} must be {what}, not {raw!r}.")
    return value


def beat_expires(every):
    """A periodic task expires a little before the next one is sent (55 s for 60 s, 110 s for 120 s), so a
    backlog never runs a pile of identical sweeps."""
    return max(every - max(every // 12, 1), 1)


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if "localhost" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append("localhost")  # the container's own health check asks http://localhost:8000/healthz
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin's look (django-unfold): before django.contrib.admin, whose templates it replaces.
    "unfold",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "reseller",
    "reseller.accounts",
    "reseller.wallet",
    "catalog",
    "orders",
    "reseller.api",
    "payments",
    "cockpit",
    "support",
    "affiliates",
]

MIDDLEWARE = [
    # Our API v2 endpoint goes straight to its view: it needs none of the middleware below, and answers
    # what it refuses (plain HTTP, a foreign Host, a body too large) in JSON, with the security headers.
    "reseller.api.middleware.ApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every page (reseller/csp.py).
    "reseller.csp.PanelCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the one chosen (cookie), else the browser's (Accept-Language), else English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "reseller.accounts.middleware.PreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Refuses a support post larger than its images may be, from its Content-Length, before it is read.
    "support.middleware.UploadLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "reseller.accounts.security.StaffTwoFactorMiddleware",
    # Last, as axes asks: it turns a lockout flagged during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "reseller.urls"
WSGI_APPLICATION = "reseller.wsgi.application"

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
                "reseller.context_processors.panel",
                "reseller.wallet.context_processors.balance",
                "support.context_processors.unread",
            ],
        },
    }
]

# Database: DATABASE_URL, else a SQLite file under var/ tuned for a web server and a worker side by side.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'reseller.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: CACHE_URL (redis://127.0.0.1:6379/1 in production, so every web process shares the API rate
# limits), else memory local to each process.
# Redis through reseller/cache.py: while it is down, each process serves from its memory (logins and rate
# limits keep working, per process), with connections that give up after half a second.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "reseller.cache.FallbackRedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "retry_on_timeout": False}
    )

# Content-Security-Policy (django-csp; reseller/csp.py gives the admin what django-unfold needs): pages run
# the panel's own files only, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Accounts: django-allauth for sign-up, login (by username or email), password change and reset, and TOTP
# two-factor authentication; django-axes against brute force. The admin logs in through allauth (urls.py).
AUTHENTICATION_BACKENDS = [
    "reseller.accounts.security.AxesBackend",  # first: refuses locked-out attempts before any password check
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
# "optional" lets people in before they confirm their address; set "mandatory" once SMTP works.
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
# Axes locks failed logins by username and IP together, for as long as AXES_COOLOFF_MINUTES. allauth's own
# `login_failed` limit stays at its default too: it is also what limits guesses of a two-factor code, which
# axes does not see. (Its per-account part can hold an account for 5 minutes after 5 failures.)
ACCOUNT_RATE_LIMITS = {"login_failed": env.str("ACCOUNT_LOGIN_FAILED_LIMIT", default="10/m/ip,5/5m/key")}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Staff without a TOTP authenticator are sent to set one up before any admin or panel page.
STAFF_REQUIRE_2FA = env.bool("STAFF_REQUIRE_2FA", default=False)

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "reseller.accounts.security.axes_username"
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
# Behind N proxies that append to X-Forwarded-For, the client address is the Nth from the right.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# English and Vietnamese: our strings in locale/vi/LC_MESSAGES, allauth's (it ships no Vietnamese) in
# locale/allauth/vi/LC_MESSAGES; .po and .mo committed (`make messages`). Each customer may choose a
# language and a time zone in their account; TIME_ZONE is the panel's default.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("vi", "Tiếng Việt")]
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "allauth"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
FORMAT_MODULE_PATH = ["reseller.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security: secure by default when DEBUG is off; each switch can be turned off by env, e.g. behind a
# TLS-terminating proxy that already redirects to HTTPS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # probes and scrapers inside the network
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# The panel
PANEL_NAME = env.str("PANEL_NAME", default="Reseller")
# Where customers reach the panel, for the links in emails (sent by the worker, which has no request).
PANEL_URL = env.str("PANEL_URL", default="http://127.0.0.1:8000").rstrip("/")
PANEL_CURRENCY = env.str("PANEL_CURRENCY", default="USD").upper()
# Currencies without minor units; prices in them are whole numbers.
ZERO_DECIMAL_CURRENCIES = {"VND", "JPY", "KRW", "IDR", "CLP", "PYG", "UGX", "XAF", "XOF"}
# Decimals of a customer rate (per 1000), rounded up to this: 0 for VND, 4 for USD by default (cheap
# services cost fractions of a cent per 1000; 2 would multiply their markup).
PANEL_RATE_DECIMALS = env.int(
    "PANEL_RATE_DECIMALS", default=0 if PANEL_CURRENCY in ZERO_DECIMAL_CURRENCIES else 4
)
# Markup over cost when neither the service, its category nor its provider says otherwise.
PANEL_DEFAULT_MARKUP_PERCENT = Decimal(env.str("PANEL_DEFAULT_MARKUP_PERCENT", default="30"))
CATALOG_PAGE_SIZE = env.int("CATALOG_PAGE_SIZE", default=50)
# The catalog's average completion time: over Completed orders finished in the last SERVICE_COMPLETION_DAYS,
# shown once at least SERVICE_COMPLETION_MIN_SAMPLE of them are counted (beat refreshes it hourly).
SERVICE_COMPLETION_DAYS = env.int("SERVICE_COMPLETION_DAYS", default=30)
SERVICE_COMPLETION_MIN_SAMPLE = env.int("SERVICE_COMPLETION_MIN_SAMPLE", default=3)

# The admin (django-unfold): the panel's name, the dashboard (cockpit/dashboard.py) as its home, and a
# sidebar whose counts show what needs a person.
UNFOLD = {
    "SITE_TITLE": f"{PANEL_NAME} admin",
    "SITE_HEADER": PANEL_NAME,
    "SITE_SUBHEADER": "Operator's cockpit",
    "SITE_SYMBOL": "storefront",
    "SITE_URL": "/",
    "SHOW_VIEW_ON_SITE": True,
    "DASHBOARD_CALLBACK": "cockpit.dashboard.dashboard_callback",
    "STYLES": ["cockpit.sidebar.stylesheet"],
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": "cockpit.sidebar.navigation",  # with the counts of what needs a person
    },
}

# Orders. Every interval is in seconds, from the environment, checked by seconds() (README, .env.example).
ORDER_POLL_EVERY = seconds("ORDER_POLL_EVERY", 60)  # beat starts an order polling sweep this often
ORDER_POLL_INTERVAL = seconds("ORDER_POLL_INTERVAL", 60, minimum=0)  # between two status checks of one order
# From placing an order upstream to its first status check.
ORDER_FIRST_CHECK_AFTER = seconds("ORDER_FIRST_CHECK_AFTER", ORDER_POLL_INTERVAL, minimum=0)
# How often beat runs the sweeper: ORDER_SUBMIT_STUCK_AFTER, ORDER_REQUEUE_AFTER, REFILL_SUBMIT_STUCK_AFTER.
ORDER_SWEEP_EVERY = seconds("ORDER_SWEEP_EVERY", 30)
ORDER_SUBMIT_STUCK_AFTER = seconds("ORDER_SUBMIT_STUCK_AFTER", 300)  # submitting longer: review
# Still queued this long after it was due (placed, or its retry due): its task was lost, so queue it again.
ORDER_REQUEUE_AFTER = seconds("ORDER_REQUEUE_AFTER", 60)
ORDER_POLL_BATCH = env.int("ORDER_POLL_BATCH", default=1000)  # orders claimed at once (status asks 100)
# A sweep hands the polling to up to this many tasks per provider (one per ORDER_POLL_BATCH due orders), for
# as many workers as there are to take them (orders/polling.py: orders_poll_fan_out).
ORDER_POLL_FAN_OUT = whole("ORDER_POLL_FAN_OUT", 4, unit="tasks")
# Threads of a sweep writing its answers, each with its own database connection (PostgreSQL only): one
# batch's writes run while the next is claimed and read, and another's are built (reseller/db.py: Writer).
ORDER_POLL_WRITERS = whole("ORDER_POLL_WRITERS", 2, minimum=0, unit="threads")
ORDER_SUBMIT_MAX_RETRIES = env.int("ORDER_SUBMIT_MAX_RETRIES", default=5)  # when the provider is unreachable
ORDER_SUBMIT_RETRY_BASE = env.int("ORDER_SUBMIT_RETRY_BASE", default=15)  # seconds, doubled each retry
ORDERS_PAGE_SIZE = env.int("ORDERS_PAGE_SIZE", default=25)
# How often an open orders page asks for its live orders (one request for the whole page).
LIVE_POLL_SECONDS = seconds("LIVE_POLL_SECONDS", 3)
# An open order whose status has not changed for this long is stuck: on the dashboard, and alerted.
ORDER_STUCK_AFTER = seconds("ORDER_STUCK_AFTER", 24 * 3600)
# Refills
# Order types (catalog/service_types.py): the choices and bounds customers order within.
DRIPFEED_INTERVALS = [
    int(m) for m in env.list("DRIPFEED_INTERVALS", default=["0", "5", "10", "15", "30", "60", "90"])
]
DRIPFEED_MAX_RUNS = env.int("DRIPFEED_MAX_RUNS", default=100)
SUBSCRIPTION_DELAYS = [
    int(m) for m in env.list("SUBSCRIPTION_DELAYS", default=["0", "5", "10", "15", "30", "60", "90"])
]
SUBSCRIPTION_MAX_POSTS = env.int("SUBSCRIPTION_MAX_POSTS", default=1000)
POLL_MAX_ANSWER = env.int("POLL_MAX_ANSWER", default=100)
MASS_ORDER_MAX_LINES = env.int("MASS_ORDER_MAX_LINES", default=500)

REFILL_WINDOW_DAYS = env.int("REFILL_WINDOW_DAYS", default=30)  # after completion; a service may override
REFILL_POLL_EVERY = seconds("REFILL_POLL_EVERY", 120)  # beat starts a refill polling sweep this often
REFILL_POLL_INTERVAL = seconds("REFILL_POLL_INTERVAL", 300, minimum=0)  # between two checks of one refill
# From placing a refill upstream to its first status check.
REFILL_FIRST_CHECK_AFTER = seconds("REFILL_FIRST_CHECK_AFTER", REFILL_POLL_INTERVAL, minimum=0)
# A refill submitting longer goes to review.
REFILL_SUBMIT_STUCK_AFTER = seconds("REFILL_SUBMIT_STUCK_AFTER", ORDER_SUBMIT_STUCK_AFTER)
API_IDEMPOTENCY_HOURS = env.int("API_IDEMPOTENCY_HOURS", default=72)  # how long an Idempotency-Key is kept
WALLET_PAGE_SIZE = env.int("WALLET_PAGE_SIZE", default=25)
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{PANEL_NAME}] "
MFA_TOTP_ISSUER = PANEL_NAME

# Our own API v2 (reseller/api): requests per API key, as "count/period" (s, m, h or d), e.g. 600/m.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/m")
# Wrong or missing API keys per client address; over it, the address is refused (a right key too) until the
# window ends.
API_BAD_KEY_LIMIT = env.str("API_BAD_KEY_LIMIT", default="30/m")
# The largest API request body (Content-Length) read at all; larger ones are refused unread.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=256 * 1024)

# Payments (payments/, ../shared/payments.md). A method without its credentials is hidden from customers.
# Stripe Checkout: card payments in STRIPE_CURRENCY (default the panel's); STRIPE_API_BASE points the SDK at
# another server (the fake gateways of `make run` and the tests).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="").rstrip("/")
STRIPE_CURRENCY = (env.str("STRIPE_CURRENCY", default="") or PANEL_CURRENCY).upper()
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)  # seconds, as the SDK's default
# payOS (VietQR payment links, VND)
PAYOS_CLIENT_ID = env.str("PAYOS_CLIENT_ID", default="")
PAYOS_API_KEY = env.str("PAYOS_API_KEY", default="")
PAYOS_CHECKSUM_KEY = env.str("PAYOS_CHECKSUM_KEY", default="")
PAYOS_BASE_URL = env.str("PAYOS_BASE_URL", default="")
# Bank transfer (VND) with SePay's notifications: the operator's account, shown with a VietQR image, and the
# memo code customers write (<BANK_MEMO_PREFIX><customer id>).
SEPAY_API_KEY = env.str("SEPAY_API_KEY", default="")
BANK_NAME = env.str("BANK_NAME", default="")
BANK_BIN = env.str("BANK_BIN", default="")  # the bank's 6-digit NAPAS BIN, for the VietQR image
BANK_ACCOUNT_NUMBER = env.str("BANK_ACCOUNT_NUMBER", default="")
BANK_ACCOUNT_NAME = env.str("BANK_ACCOUNT_NAME", default="")
BANK_MEMO_PREFIX = (env.str("BANK_MEMO_PREFIX", default="") or "NAP").upper()
if not (BANK_MEMO_PREFIX.isascii() and BANK_MEMO_PREFIX.isalpha() and len(BANK_MEMO_PREFIX) <= 10):
    # Banks drop punctuation and run words together: only letters keep the customer id readable after it.
    raise ImproperlyConfigured(f"BANK_MEMO_PREFIX must be up to 10 letters (A-Z), not {BANK_MEMO_PREFIX!r}.")
# DEBUG only: the fake SePay that the bank page's "Simulate the transfer" button asks to send a notification.
SEPAY_SIMULATOR_URL = env.str("SEPAY_SIMULATOR_URL", default="").rstrip("/")
# A card or payOS deposit still unpaid after this long is closed as expired (a late payment still credits).
DEPOSIT_EXPIRE_AFTER = seconds("DEPOSIT_EXPIRE_AFTER", 24 * 3600)
PAYMENTS_TIMEOUT = env.float("PAYMENTS_TIMEOUT", default=15.0)  # seconds, for calls to a gateway
DEPOSITS_PAGE_SIZE = env.int("DEPOSITS_PAGE_SIZE", default=25)

# Uploaded files (ticket attachments): through Django's storage API, never served from MEDIA_URL; the support
# app's view checks who asks. In production point STORAGES["default"] at S3 or a volume.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Support tickets (support/): flood limits, attachments, and whether staff get an email per customer message.
SUPPORT_MAX_OPEN_TICKETS = env.int("SUPPORT_MAX_OPEN_TICKETS", default=5)  # not closed, per customer
SUPPORT_MESSAGES_PER_MINUTE = env.int("SUPPORT_MESSAGES_PER_MINUTE", default=5)  # per customer, all tickets
SUPPORT_ATTACHMENT_MAX_BYTES = env.int("SUPPORT_ATTACHMENT_MAX_BYTES", default=5 * 1024 * 1024)
SUPPORT_ATTACHMENTS_PER_MESSAGE = env.int("SUPPORT_ATTACHMENTS_PER_MESSAGE", default=3)
SUPPORT_EMAIL_STAFF = env.bool("SUPPORT_EMAIL_STAFF", default=True)
SUPPORT_PAGE_SIZE = env.int("SUPPORT_PAGE_SIZE", default=25)

# Affiliates (affiliates/): the commission on referred customers' net charges, the referral cookie, payouts.
AFFILIATE_COMMISSION_PERCENT = decimal_value(
    "AFFILIATE_COMMISSION_PERCENT",
    "5",
    most=100,
    places=2,
    what="a percentage from 0 to 100, two decimals at most",
)
AFFILIATE_COOKIE_DAYS = whole("AFFILIATE_COOKIE_DAYS", 30, unit="days")
AFFILIATE_PAYOUT_MINIMUM = decimal_value("AFFILIATE_PAYOUT_MINIMUM", "10")  # panel currency
AFFILIATE_PAYOUT_APPROVAL = env.bool("AFFILIATE_PAYOUT_APPROVAL", default=False)  # staff approve each payout

# Upstream providers (catalog/upstream.py)
# A provider's balance is low (dashboard, alert) below its own threshold, or when it lasts fewer days than
# this at the last 7 days' spend.
LOW_BALANCE_DAYS = env.int("LOW_BALANCE_DAYS", default=3)
# Alerts to staff (cockpit/alerts.py), checked every ALERT_CHECK_EVERY: an email when a condition starts, a
# reminder at most every ALERT_EVERY while it lasts, one when it recovers. A provider answers errors when at
# least ALERT_PROVIDER_ERRORS of the calls since the last check failed, and at least half of them.
ALERT_CHECK_EVERY = seconds("ALERT_CHECK_EVERY", 60)
ALERT_EVERY = seconds("ALERT_EVERY", 3600)
ALERT_PROVIDER_ERRORS = env.int("ALERT_PROVIDER_ERRORS", default=5)
UPSTREAM_CONNECT_TIMEOUT = env.float("UPSTREAM_CONNECT_TIMEOUT", default=5.0)
UPSTREAM_READ_TIMEOUT = env.float("UPSTREAM_READ_TIMEOUT", default=30.0)
# Calls in flight to one provider at once, per worker process (catalog/pool.py): status and refill status
# sweeps, and submissions of queued orders. Providers rate-limit, so keep it modest.
UPSTREAM_CONCURRENCY = whole("UPSTREAM_CONCURRENCY", 8, unit="calls")
# A provider that throttles (429), fails (5xx), times out or cannot be reached is left alone for
# UPSTREAM_BACKOFF_BASE seconds, doubled for each failure in a row, at most UPSTREAM_BACKOFF_MAX (or longer
# when it asks, by Retry-After, up to an hour); the first call that succeeds ends it.
UPSTREAM_BACKOFF_BASE = seconds("UPSTREAM_BACKOFF_BASE", 5)
UPSTREAM_BACKOFF_MAX = seconds("UPSTREAM_BACKOFF_MAX", 300)

# Celery: JSON only, acks late, one task at a time per worker process, hard and soft time limits.
# Every task is safe to run twice (each claims its rows first; README, "Workers and the broker"), so a task
# is acknowledged when it ends, not when taken (acks late), and one whose worker died is given to another
# (reject on worker lost). On Redis a task taken and not acknowledged (its worker was killed) goes back to
# the queue after the visibility timeout: longer than a task may run and than any retry's countdown, which a
# worker holds unacknowledged until it is due, else a second copy would start; short enough that a killed
# worker's task is not lost for an hour (kombu's default). Queued orders need not wait for it: the sweeper
# sends them again within a minute or so (ORDER_REQUEUE_AFTER).
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
CELERY_VISIBILITY_TIMEOUT = seconds("CELERY_VISIBILITY_TIMEOUT", 600)
_LONGEST_COUNTDOWN = ORDER_SUBMIT_RETRY_BASE * 2 ** max(ORDER_SUBMIT_MAX_RETRIES - 1, 0)
if max(CELERY_TASK_TIME_LIMIT, _LONGEST_COUNTDOWN) >= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT ({CELERY_VISIBILITY_TIMEOUT} s) must be longer than "
        f"CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT} s) and than the longest submission retry "
        f"({_LONGEST_COUNTDOWN} s)."
    )
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "filesystem://localhost//"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
)  # kombu's filesystem transport needs these folders to exist: ResellerConfig.ready() creates them
CELERY_TASK_IGNORE_RESULT = True
# The queue tasks are sent to and workers read (bench_load gives its run one of its own, dropped afterwards).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Run tasks inline instead of through the broker (a second panel in the chained-panel test; never production).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat's default scheduler, writing a heartbeat for /healthz (reseller/beat.py).
CELERY_BEAT_SCHEDULER = "reseller.beat:HeartbeatScheduler"
CELERY_BEAT_SCHEDULE = {
    "refresh-provider-balances": {
        "task": "catalog.tasks.providers_refresh_balances",
        "schedule": crontab(minute="*/10"),
    },
    "sync-provider-services": {
        "task": "catalog.tasks.providers_sync_services",
        "schedule": crontab(minute=env.int("CATALOG_SYNC_MINUTE", default=7)),  # hourly
    },
    "poll-orders": {
        "task": "orders.tasks.orders_poll",
        "schedule": ORDER_POLL_EVERY,
        "options": {"expires": beat_expires(ORDER_POLL_EVERY)},
    },
    "sweep-orders": {
        "task": "orders.tasks.orders_sweep",
        "schedule": ORDER_SWEEP_EVERY,
        "options": {"expires": beat_expires(ORDER_SWEEP_EVERY)},
    },
    "poll-refills": {
        "task": "orders.tasks.refills_poll",
        "schedule": REFILL_POLL_EVERY,
        "options": {"expires": beat_expires(REFILL_POLL_EVERY)},
    },
    "purge-idempotency-keys": {
        "task": "reseller.api.tasks.idempotency_keys_purge",
        "schedule": crontab(minute=17),
    },
    "expire-deposits": {
        "task": "payments.tasks.deposits_expire",
        "schedule": crontab(minute="*/15"),
    },
    "refresh-service-completion-times": {
        "task": "orders.tasks.services_completion_refresh",
        "schedule": crontab(minute=27),  # hourly
    },
    "rollup-figures": {
        "task": "cockpit.tasks.figures_rollup",
        "schedule": crontab(minute=20),  # hourly: a day is rolled up once it has been over for 15 minutes
    },
    "check-alerts": {
        "task": "cockpit.tasks.alerts_check",
        "schedule": ALERT_CHECK_EVERY,
        "options": {"expires": beat_expires(ALERT_CHECK_EVERY)},
    },
}

# Health and metrics (cockpit/health.py, cockpit/metrics.py)
# /healthz fails when the last finished order polling sweep, or beat's last tick, is older than this.
HEALTH_POLL_MAX_AGE = seconds("HEALTH_POLL_MAX_AGE", max(3 * ORDER_POLL_EVERY, 300))
HEALTH_BEAT_MAX_AGE = seconds("HEALTH_BEAT_MAX_AGE", 120)
# /metrics answers a request with "Authorization: Bearer <METRICS_TOKEN>" (empty: no token opens it) or
# from one of METRICS_ALLOWED_IPS (addresses or networks, e.g. 10.0.0.0/8; the client address as
# TRUSTED_PROXY_COUNT says); nobody else.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_IPS must list addresses or networks, not {_network!r}."
        ) from None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
