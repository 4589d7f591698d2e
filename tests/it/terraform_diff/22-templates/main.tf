locals {
  inline    = "Hi $${who}, you have $${n} messages%%{ if n > 1 }s%%{ endif }."
  templates = { short = "[$${x}]", loop = "%%{ for v in vs }<$${v}>%%{ endfor }" }
  list      = ["$${a}-$${b}"]
  guarded   = "%%{ if false }$${missing}%%{ endif }ok"
  bound     = <<-EOT
    %%{ for i, x in xs }$${i}$${x}%%{ endfor }$${join(",", [for k, v in m : "$${k}=$${v}"])} $${jsonencode({ xs = 1 })}
  EOT
}
output "greeting" {
  value = templatefile("${path.module}/templates/greeting.tftpl", { name = "Ada", services = ["api", "db"], admin = true })
}
output "greeting_user" {
  value = templatefile("templates/greeting.tftpl", { name = "Bob", services = [], admin = false })
}
output "single_interpolation" { value = templatefile("templates/list.tftpl", { items = [1, 2, 3] }) }
output "tags" { value = templatefile("templates/tags.tftpl", { tags = { b = "2", a = "1" } }) }
output "plain" { value = templatefile("templates/plain.tftpl", {}) }
output "funcs" { value = templatefile("templates/funcs.tftpl", { n = 3.14159 }) }
output "nested_refused" { value = can(templatefile("templates/nested.tftpl", {})) }
output "self_refused" { value = can(templatefile("templates/self.tftpl", {})) }
output "missing_var" { value = can(templatefile("templates/missing_var.tftpl", {})) }
output "bad_syntax" { value = can(templatefile("templates/bad_syntax.tftpl", {})) }
output "missing_file" { value = can(templatefile("templates/nope.tftpl", {})) }
output "string" { value = templatestring(local.inline, { who = "Ada", n = 2 }) }
output "string_one" { value = templatestring(local.inline, { who = "Bob", n = 1 }) }
output "string_index" { value = templatestring(local.templates["short"], { x = "y" }) }
output "string_attr" { value = templatestring(local.templates.loop, { vs = ["a", "b"] }) }
output "string_list" { value = templatestring(local.list[0], { a = 1, b = true }) }
output "string_missing" { value = can(templatestring(local.inline, {})) }
output "string_bad_name" { value = can(templatestring(local.inline, { "1x" = 1, who = "a", n = 1 })) }
output "untaken_branch_missing_var" { value = can(templatestring(local.guarded, {})) }
output "for_variables_bound" { value = templatestring(local.bound, { xs = [1, 2], m = { k = "v" } }) }
