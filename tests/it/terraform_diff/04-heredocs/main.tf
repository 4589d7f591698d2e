variable "names" {
  default = ["alpha", "beta", "gamma"]
}
locals {
  plain = <<EOT
line one
  line two
EOT
  indented = <<-EOT
    first
      second
    third
  EOT
  directives = <<-EOT
    %{~ for n in var.names ~}
    - ${n}
    %{~ endfor ~}
  EOT
  stripped = <<EOT
%{ for n in var.names ~}
${n}
%{ endfor ~}
done
EOT
}
output "plain" { value = local.plain }
output "indented" { value = local.indented }
output "directives" { value = local.directives }
output "stripped" { value = local.stripped }
output "if_strip" { value = "a %{~ if true ~} b %{~ endif ~} c" }
output "for_trailing_strip" {
  value = <<-EOT
    %{ for k, v in {a = 1, b = 2} ~}
    ${k}=${v}
    %{ endfor ~}
  EOT
}
output "if_no_strip" {
  value = <<-EOT
    %{ if true }
      yes
    %{ endif }
  EOT
}
