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
