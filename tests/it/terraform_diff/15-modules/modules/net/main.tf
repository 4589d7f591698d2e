variable "cidr" { type = string }
variable "names" { type = list(string) }
output "subnets" { value = [for i, n in var.names : cidrsubnet(var.cidr, 8, i)] }
output "by_name" { value = zipmap(var.names, [for i, n in var.names : cidrsubnet(var.cidr, 8, i)]) }
