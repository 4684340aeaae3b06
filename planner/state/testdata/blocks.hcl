schema "public" {
  comment = "a \"quoted\" comment {"
}
schema "billing" {}
enum "status" {
  schema = schema.billing
  values = ["a}", "b"]
}
table "users" {
  schema = schema.public
  column "id" {
    type = int
  }
}
table "users" {
  schema  = schema.billing
  comment = <<-EOT
    two
    lines
  EOT
  column "status" {
    type = enum.status
  }
}
