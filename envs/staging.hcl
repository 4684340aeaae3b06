# Profile "staging": a shared pre-production database. keel apply applies at
# once, over TLS.
url_env   = "STAGING_DATABASE_URL"
schema    = "schema.hcl"
apply     = "auto"
tls       = "require"
lock_wait = "30s"
concurrent_indexes = true
lock_timeout       = "5s"
statement_timeout  = "10m"
lock_retries       = 3
