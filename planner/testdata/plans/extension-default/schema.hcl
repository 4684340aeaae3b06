schema "public" {}
extension "uuid-ossp" {
  schema = schema.public
}
table "events" {
  schema = schema.public
  column "id" {
    type = int
  }
  column "ref" {
    type    = uuid
    default = sql("uuid_generate_v4()")
  }
  primary_key {
    columns = [column.id]
  }
}
