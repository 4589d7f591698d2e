# Calls Terraform rejects are errors that try and can see, as in Terraform.
output "unknown_function" { value = can(nosuchfunction(1)) }
output "removed_list" { value = can(list(1, 2)) }
output "removed_map" { value = can(map("a", 1)) }
output "console_only_type" { value = can(type(1)) }
output "arity" { value = can(upper("a", "b")) }
output "try_file" { value = try(file("missing.txt"), "fallback") }
output "try_yaml" { value = try(yamldecode("a: [1"), "bad yaml") }
output "try_csv" { value = try(csvdecode("a\n\"x"), "bad csv") }
output "try_template" { value = try(templatefile("missing.tftpl", {}), "no template") }
output "try_json" { value = try(jsondecode("{"), { fallback = true }) }
output "try_date" { value = try(formatdate("YYYY", "yesterday"), "bad date") }
output "try_cidr" { value = try(cidrsubnets("10.0.0.0/30", 4), []) }
output "can_good" { value = [can(yamldecode("a: 1")), can(csvdecode("a\n1\n")), can(timeadd("2020-01-01T00:00:00Z", "1h"))] }
output "base64_then_text" { value = try(base64decode(filebase64("main.tf")) != "", false) }
output "core_try" { value = core::try(core::upper(1 + "x"), "core fallback") }
output "fileset_outside" { value = length(fileset(path.module, "*.tf")) }
