# nullable = false: a null given means the default; nullable (the default): null stays null.
variable "retention" {
  type     = number
  default  = 30
  nullable = false
}
variable "region" {
  type    = string
  default = "ap-south-1"
}
variable "settings" {
  type = object({
    mode    = optional(string, "strict")
    retries = optional(number, 3)
  })
  default  = {}
  nullable = false
}
variable "maybe" {
  type    = map(string)
  default = null
}
variable "explicit_true" {
  type     = list(string)
  default  = ["a"]
  nullable = true
}
module "child" {
  source    = "./child"
  size      = null
  name      = null
  tags      = null
  threshold = "7"
}

output "retention" { value = var.retention }
output "region" { value = var.region }
output "region_is_null" { value = var.region == null }
output "settings" { value = var.settings }
output "maybe" { value = var.maybe }
output "explicit_true" { value = var.explicit_true }
output "child_size" { value = module.child.size }
output "child_name" { value = module.child.name }
output "child_tags" { value = module.child.tags }
output "child_threshold" { value = module.child.threshold }
