locals {
  cfg = { a = { b = "deep" } }
}
output "try_hit" { value = try(local.cfg.a.b, "fallback") }
output "try_miss" { value = try(local.cfg.x.y, "fallback") }
output "try_index" { value = try(["a"][3], "none") }
output "can_ok" { value = can(local.cfg.a) }
output "can_fail" { value = can(local.cfg.nope) }
output "can_regex" { value = can(regex("^[a-z]+$", "abc")) }
output "coalesce" { value = coalesce("", "b", "c") }
output "coalesce_null" { value = coalesce(null, "x") }
output "coalescelist" { value = coalescelist([], ["a"], ["b"]) }
output "regex_single" { value = regex("[0-9]+", "abc123def") }
output "regex_groups" { value = regex("(\\d+)-(\\d+)", "10-20") }
output "regex_named" { value = regex("(?P<user>[a-z]+)@(?P<host>[a-z.]+)", "me@example.com") }
output "regexall" { value = regexall("[a-z]+", "abc 123 def") }
output "regexall_count" { value = length(regexall("x", "axbxcx")) }
