variable "name" {
  type = string
}
variable "settings" {
  type = object({
    tier        = string
    retention   = optional(number, 30)
    object_lock = optional(bool, true)
  })
}
variable "replicas" {
  type    = number
  default = 1
}
variable "zones" {
  type    = set(string)
  default = ["z"]
}
output "name" { value = var.name }
output "settings" { value = var.settings }
output "retention" { value = var.settings.retention }
output "object_lock" { value = var.settings.object_lock }
output "replicas" { value = var.replicas + 1 }
output "zones" { value = var.zones }
