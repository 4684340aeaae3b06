# Desired state of the example service: users who sign in with a social login
# (Kakao and others) and place orders. keel plans and applies this file.

schema "public" {}

# uuid_generate_v4() below comes from this extension: keel installs it before
# the tables that use it.
extension "uuid-ossp" {
  schema = schema.public
}

enum "login_provider" {
  schema = schema.public
  values = ["kakao", "google", "apple"]
}

enum "order_status" {
  schema = schema.public
  values = ["pending", "paid", "shipped", "cancelled"]
}

table "users" {
  schema  = schema.public
  comment = "People who have signed in at least once."
  column "id" {
    type    = uuid
    default = sql("uuid_generate_v4()")
  }
  column "email" {
    type = text
    null = true
  }
  column "display_name" {
    type = varchar(100)
  }
  column "created_at" {
    type    = timestamptz
    default = sql("now()")
  }
  column "updated_at" {
    type    = timestamptz
    default = sql("now()")
  }
  primary_key {
    columns = [column.id]
  }
  index "users_email_key" {
    unique  = true
    columns = [column.email]
  }
  check "display_name_not_blank" {
    expr = "length(btrim(display_name)) > 0"
  }
}

table "social_identities" {
  schema  = schema.public
  comment = "A user's account at a social login provider."
  column "id" {
    type = bigint
    identity {
      generated = ALWAYS
    }
  }
  column "user_id" {
    type = uuid
  }
  column "provider" {
    type = enum.login_provider
  }
  column "subject" {
    type    = text
    comment = "The provider's stable id for the account."
  }
  column "linked_at" {
    type    = timestamptz
    default = sql("now()")
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "social_identities_user_id_fkey" {
    columns     = [column.user_id]
    ref_columns = [table.users.column.id]
    on_delete   = CASCADE
  }
  index "social_identities_provider_subject_key" {
    unique  = true
    columns = [column.provider, column.subject]
  }
}

table "orders" {
  schema = schema.public
  column "id" {
    type = bigint
    identity {
      generated = BY_DEFAULT
    }
  }
  column "user_id" {
    type = uuid
  }
  column "status" {
    type    = enum.order_status
    default = "pending"
  }
  column "total_cents" {
    type = integer
  }
  column "placed_at" {
    type    = timestamptz
    default = sql("now()")
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "orders_user_id_fkey" {
    columns     = [column.user_id]
    ref_columns = [table.users.column.id]
    on_delete   = RESTRICT
  }
  index "orders_open_by_user" {
    columns = [column.user_id, column.placed_at]
    where   = "status <> 'paid'"
  }
  check "total_cents_not_negative" {
    expr = "total_cents >= 0"
  }
}

# Keeps users.updated_at current: the function and the trigger that runs it
# before every update of a row.
function "set_updated_at" {
  schema = schema.public
  lang   = PLpgSQL
  return = trigger
  as     = <<-SQL
  BEGIN
    NEW.updated_at := now();
    RETURN NEW;
  END;
  SQL
}

trigger "users_set_updated_at" {
  on = table.users
  before {
    update = true
  }
  for = ROW
  execute {
    function = function.set_updated_at
  }
}

# Orders not paid yet, with their user's display name, for the support team.
view "open_orders" {
  schema  = schema.public
  comment = "Orders waiting for payment."
  as      = <<-SQL
  SELECT o.id, o.placed_at, o.total_cents, u.display_name
  FROM orders o JOIN users u ON u.id = o.user_id
  WHERE o.status = 'pending'
  SQL
  depends_on = [table.orders, table.users]
}
