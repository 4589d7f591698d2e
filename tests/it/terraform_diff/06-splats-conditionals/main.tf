variable "servers" {
  default = [
    { name = "web", port = 80, tags = ["a"] },
    { name = "api", port = 8080, tags = ["b", "c"] },
  ]
}
variable "single" {
  default = { name = "solo", port = 22 }
}
variable "size" {
  default = "large"
}
output "names" { value = var.servers[*].name }
output "ports" { value = var.servers.*.port }
output "single_splat" { value = var.single[*].name }
output "null_splat" { value = length(null[*]) }
output "conditional" { value = var.size == "large" ? 8 : 2 }
output "nested_cond" { value = var.size == "small" ? "s" : var.size == "large" ? "l" : "m" }
output "cond_objects" { value = var.size == "large" ? { cpu = 4 } : { cpu = 1 } }
output "first_tags" { value = var.servers[1].tags }
