# Profile "dev": a local development database. `keel apply --env dev` applies
# the plan at once.

# The database URL is read from this environment variable...
url_env = "DATABASE_URL"
# ...or, when it is not set, taken from here. Never put a password in a profile.
default_url = "postgres://127.0.0.1:5432/keel_dev"

# The desired state: a .hcl file or a directory of them, relative to the
# directory that holds envs/.
schema = "schema.hcl"

# auto: `keel apply` plans and applies at once.
apply = "auto"

# Every statement runs with these timeouts; a lock timeout is retried
# lock_retries times. Worst case when a lock never comes: 2s x 3 plus backoff.
lock_timeout      = "2s"
statement_timeout = "15s"
lock_retries      = 2
