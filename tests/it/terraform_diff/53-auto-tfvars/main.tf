# Values from *.auto.tfvars (applied after terraform.tfvars, in name order) are converted too:
# lists of objects get their optional defaults element by element.
variable "rules" {
  type = list(object({
    port     = number
    protocol = optional(string, "tcp")
    cidrs    = optional(set(string), ["0.0.0.0/0"])
  }))
}
variable "environment" {
  type    = string
  default = "dev"
}
variable "instance_count" {
  type = number
}
variable "features" {
  type = map(bool)
}

output "rules" { value = var.rules }
output "ports" { value = [for r in var.rules : r.port + 0] }
output "protocols" { value = var.rules[*].protocol }
output "open_to_world" { value = [for r in var.rules : r.port if contains(r.cidrs, "0.0.0.0/0")] }
output "environment" { value = var.environment }
output "instance_count" { value = var.instance_count * 2 }
output "features" { value = var.features }
output "enabled_features" { value = sort([for k, v in var.features : k if v]) }
