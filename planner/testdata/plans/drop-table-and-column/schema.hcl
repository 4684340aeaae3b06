schema "public" {}
table "accounts" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "email" {
    type = text
    null = true
  }
  primary_key {
    columns = [column.id]
  }
}
