variable "name" {
  type = string
}
variable "subnets" {
  type = tuple([string, string])
}
variable "flags" {
  type = map(string)
}
output "summary" { value = "${var.name}:${join(",", values(var.flags))}" }
output "subnets" { value = var.subnets }
