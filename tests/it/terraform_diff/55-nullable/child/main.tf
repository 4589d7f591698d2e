variable "size" {
  type     = number
  default  = 10
  nullable = false
}
variable "name" {
  type    = string
  default = "unnamed"
}
variable "tags" {
  type = object({
    owner = optional(string, "nobody")
  })
  default  = { owner = "team" }
  nullable = false
}
variable "threshold" {
  type     = number
  nullable = false
}
output "size" { value = var.size }
output "name" { value = var.name }
output "tags" { value = var.tags }
output "threshold" { value = var.threshold + 1 }
