# Sets of objects: duplicates (after defaults) removed, ordered as Terraform orders them.
variable "ingress" {
  type = set(object({
    port     = number
    cidr     = string
    protocol = optional(string, "tcp")
  }))
}
variable "names" {
  type = set(object({ name = string }))
  default = [
    { name = "zeta" },
    { name = "alpha" },
    { name = "Mid" },
    { name = "alpha" },
  ]
}
variable "pairs" {
  type    = set(tuple([string, number]))
  default = [["b", 2], ["a", 10], ["a", 9]]
}
variable "lists" {
  type    = set(list(string))
  default = [["y"], ["x", "z"], ["x"]]
}

output "ingress" { value = var.ingress }
output "ingress_ports" { value = [for r in var.ingress : r.port] }
output "ingress_count" { value = length(var.ingress) }
output "names" { value = var.names }
output "pairs" { value = var.pairs }
output "lists" { value = var.lists }
