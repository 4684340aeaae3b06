schema "public" {}
enum "status" {
  schema = schema.public
  values = ["open", "paid", "void"]
}
table "invoices" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "status" {
    type    = enum.status
    default = "open"
  }
  column "total" {
    type = int
  }
  primary_key {
    columns = [column.id]
  }
  check "total_not_negative" {
    expr = "total >= 0"
  }
}
