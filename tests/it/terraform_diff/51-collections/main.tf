# Collections converted to their declared element types; sets deduplicated and ordered.
variable "ports" {
  type = list(number)
}
variable "zones" {
  type = set(string)
}
variable "sizes" {
  type = set(number)
}
variable "switches" {
  type = set(bool)
}
variable "labels" {
  type = map(string)
}
variable "limits" {
  type = map(number)
}
variable "triple" {
  type = tuple([string, number, bool])
}
variable "matrix" {
  type = list(list(string))
}
variable "groups" {
  type = map(set(string))
}
variable "empty_list" {
  type    = list(string)
  default = []
}
variable "empty_set" {
  type    = set(number)
  default = []
}
variable "with_null" {
  type    = list(string)
  default = ["a", null, 3]
}

output "ports" { value = var.ports }
output "port_sum" { value = sum(var.ports) }
output "zones" { value = var.zones }
output "zone_list" { value = [for z in var.zones : upper(z)] }
output "zone_count" { value = length(var.zones) }
output "sizes" { value = var.sizes }
output "switches" { value = var.switches }
output "labels" { value = var.labels }
output "limits" { value = var.limits }
output "limit_total" { value = var.limits.cpu + var.limits.memory }
output "triple" { value = var.triple }
output "matrix" { value = var.matrix }
output "groups" { value = var.groups }
output "admins" { value = var.groups["admins"] }
output "empty_list" { value = var.empty_list }
output "empty_set" { value = var.empty_set }
output "with_null" { value = var.with_null }
