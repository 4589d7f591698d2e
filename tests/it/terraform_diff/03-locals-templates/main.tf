variable "env" {
  default = "prod"
}
locals {
  prefix  = "altscore-${var.env}"
  count_n = 3
  greet   = "Hello, %{if var.env == "prod"}production%{else}sandbox%{endif}!"
  listing = "%{for i, z in ["a", "b", "c"]}${i}=${z};%{endfor}"
  escaped = "$${not_interpolated} and %%{not_directive}"
  nested  = "${upper("${local.prefix}-x")}"
}
output "prefix" { value = local.prefix }
output "greet" { value = local.greet }
output "listing" { value = local.listing }
output "escaped" { value = local.escaped }
output "nested" { value = local.nested }
output "number_in_string" { value = "n=${local.count_n + 1}" }
output "bool_in_string" { value = "b=${local.count_n > 2}" }
