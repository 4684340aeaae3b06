# Profile "ci": the throwaway PostgreSQL of a CI job (a service container).
# The pull-request job of .github/workflows/schema.yml loads the main
# branch's desired state into it, then plans the pull request's against it:
#   keel apply --env ci --schema base/schema.hcl
#   keel plan  --env ci --format markdown
# No production credentials are involved.
url_env     = "CI_DATABASE_URL"
default_url = "postgres://postgres@127.0.0.1:5432/postgres"
schema      = "schema.hcl"
apply       = "auto"

# The same policy as prod (envs/prod.hcl), so that a pull request shows what
# prod would refuse, and its statements as prod would run them.
deny               = ["data-loss"]
concurrent_indexes = true
lock_timeout       = "5s"
statement_timeout  = "30m"
lock_retries       = 3
