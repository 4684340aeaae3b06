# Profile "prod": keel apply runs only a saved plan that a reviewer approved,
# and only while the database is still in the state the plan was computed from:
#   keel plan    --env prod --out plan.json
#   keel approve plan.json --by NAME [--key KEYFILE]
#   keel apply   --env prod --plan plan.json
url_env   = "PROD_DATABASE_URL"
schema    = "schema.hcl"
apply     = "review"
# keel normalizes the desired state by loading it into a throwaway database.
# Here that must not happen on the production server (it would run the
# desired state's SQL there): it happens on this scratch PostgreSQL of the
# same major version, such as the CI job's service container. --dev-url or
# KEEL_DEV_URL override it; normalize_on_target = true would allow prod's server.
dev_url   = "postgres://postgres@127.0.0.1:5432/postgres"
# The URL must use sslmode=require or stronger; below verify-full, keel warns
# for a host other than this machine.
tls       = "require"
# How long an apply waits for another apply on the same database.
lock_wait = "30s"
# Reviewers' ed25519 public keys (keel keygen). When listed, an approval must
# be signed by one of them; when empty, a named approval (--by) is enough.
approvers = []

# Hazards a plan may not carry unless `keel plan --allow-hazard CODE` allowed
# them (the allowance is recorded in the plan file for the reviewer).
deny = ["data-loss"]
# New indexes on existing tables are built with CREATE INDEX CONCURRENTLY after
# the transaction commits, so that writes go on during the build.
concurrent_indexes = true
lock_timeout       = "5s"
statement_timeout  = "30m"
lock_retries       = 3
