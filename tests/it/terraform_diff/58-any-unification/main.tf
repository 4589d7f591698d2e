# `any` inside a collection means one type for all elements, found as Terraform unifies them.
variable "mixed" {
  type    = list(any)
  default = ["a", 1, true]
}
variable "numbers" {
  type    = list(any)
  default = [1, 2.5]
}
variable "nested" {
  type    = list(any)
  default = [[1], ["s", 2]]
}
variable "objects" {
  type    = list(any)
  default = [{ a = 1 }, { a = "s" }]
}
variable "different_objects" {
  type    = map(any)
  default = { x = { p = 1 }, y = { p = 2, q = "three" } }
}
variable "attribute_any" {
  type    = map(object({ x = any, y = optional(number, 0) }))
  default = { k = { x = 1 }, l = { x = "s", y = "4" } }
}
variable "whole_any" {
  type    = any
  default = { a = [1, "x"], b = { c = true } }
}
variable "bare_list" {
  type    = list
  default = [true, "x"]
}
variable "bare_map" {
  type    = map
  default = { a = 1, b = "2" }
}
variable "sets" {
  type    = set(any)
  default = [3, "3", "2", 10]
}
variable "with_nulls" {
  type    = list(any)
  default = [null, 1, null]
}
variable "map_of_lists" {
  type    = map(list(any))
  default = { a = [1, 2], b = ["x"] }
}

output "mixed" { value = var.mixed }
output "numbers" { value = var.numbers }
output "nested" { value = var.nested }
output "objects" { value = var.objects }
output "different_objects" { value = var.different_objects }
output "attribute_any" { value = var.attribute_any }
output "whole_any" { value = var.whole_any }
output "bare_list" { value = var.bare_list }
output "bare_map" { value = var.bare_map }
output "sets" { value = var.sets }
output "with_nulls" { value = var.with_nulls }
output "map_of_lists" { value = var.map_of_lists }
