variable "vpc_cidr" {
  default = "10.20.0.0/16"
}
output "subnets" { value = [for i in range(4) : cidrsubnet(var.vpc_cidr, 8, i)] }
output "subnet_4bits" { value = cidrsubnet("172.16.0.0/12", 4, 2) }
output "subnet_ipv6" { value = cidrsubnet("fd00:fd12:3456:7890::/56", 8, 1) }
output "host" { value = cidrhost("10.12.112.0/20", 16) }
output "host_neg" { value = cidrhost("10.12.112.0/20", -2) }
output "netmask" { value = cidrnetmask("172.16.0.0/12") }
output "range_step" { value = range(1, 10, 3) }
output "range_down" { value = range(5, 0, -2) }
