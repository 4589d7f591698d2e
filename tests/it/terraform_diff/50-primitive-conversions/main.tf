# Primitive values given as another primitive type are converted to the declared one.
variable "replicas" {
  type = number
}
variable "ratio" {
  type = number
}
variable "exponent" {
  type = number
}
variable "negative" {
  type = number
}
variable "enabled" {
  type = bool
}
variable "disabled" {
  type = bool
}
variable "one" {
  type = bool
}
variable "zero" {
  type = bool
}
variable "port" {
  type = string
}
variable "fraction" {
  type = string
}
variable "flag" {
  type = string
}
variable "default_number" {
  type    = number
  default = "12"
}
variable "default_string" {
  type    = string
  default = 3.5
}
variable "default_bool" {
  type    = bool
  default = "false"
}
variable "untyped" {
  default = "7"
}
variable "null_number" {
  type    = number
  default = null
}

output "replicas" { value = var.replicas }
output "replicas_plus_one" { value = var.replicas + 1 }
output "ratio" { value = var.ratio }
output "exponent" { value = var.exponent }
output "negative" { value = var.negative }
output "enabled" { value = var.enabled }
output "disabled" { value = var.disabled }
output "one" { value = var.one }
output "zero" { value = var.zero }
output "port" { value = var.port }
output "port_is_string" { value = var.port == "8080" }
output "fraction" { value = var.fraction }
output "flag" { value = var.flag }
output "default_number" { value = var.default_number }
output "default_number_is_number" { value = var.default_number == 12 }
output "default_string" { value = var.default_string }
output "default_bool" { value = var.default_bool }
output "not_default_bool" { value = !var.default_bool }
output "untyped" { value = var.untyped }
output "untyped_is_string" { value = var.untyped == "7" }
output "null_number" { value = var.null_number }
output "null_number_is_null" { value = var.null_number == null }
