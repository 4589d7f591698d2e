variable "name" {
  type    = string
  default = "orders"
}
variable "replicas" {
  type    = number
  default = 3
}
variable "enabled" {
  type    = bool
  default = true
}
variable "tags" {
  type    = map(string)
  default = { team = "data", env = "dev" }
}
variable "zones" {
  type    = list(string)
  default = ["ap-south-1a", "ap-south-1b"]
}
output "name" { value = var.name }
output "replicas_plus" { value = var.replicas + 2 }
output "half" { value = var.replicas / 2 }
output "modulo" { value = 17 % 5 }
output "negative" { value = -var.replicas * 4 }
output "enabled" { value = !var.enabled }
output "tags" { value = var.tags }
output "first_zone" { value = var.zones[0] }
output "zone_count" { value = length(var.zones) }
output "compare" { value = var.replicas >= 3 && var.name != "x" || false }
