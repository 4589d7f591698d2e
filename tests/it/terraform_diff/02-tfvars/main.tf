variable "region" {
  type    = string
  default = "us-east-1"
}
variable "buckets" {
  type    = list(string)
  default = []
}
variable "limits" {
  type = object({ cpu = number, memory = string })
  default = { cpu = 1, memory = "1Gi" }
}
variable "untyped" {
  default = "d"
}
output "region" { value = var.region }
output "buckets" { value = var.buckets }
output "bucket_names" { value = [for b in var.buckets : "${var.region}-${b}"] }
output "limits" { value = var.limits }
output "cpu_doubled" { value = var.limits.cpu * 2 }
output "untyped" { value = var.untyped }
