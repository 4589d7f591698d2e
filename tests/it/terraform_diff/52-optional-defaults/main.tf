# optional() defaults in the shapes real configurations use, given through terraform.tfvars.
variable "buckets" {
  type = map(object({
    versioning  = optional(bool, true)
    object_lock = optional(bool)
    lifecycle = optional(object({
      days          = optional(number, 90)
      storage_class = optional(string)
    }), {})
    tags = optional(map(string), {})
  }))
}
variable "service" {
  type = object({
    name     = string
    replicas = optional(number, 2)
    ports    = optional(list(number), [443])
    owner    = optional(string, "platform")
  })
}

output "buckets" { value = var.buckets }
output "logs_versioning" { value = var.buckets["logs"].versioning }
output "logs_days" { value = var.buckets["logs"].lifecycle.days }
output "data_days" { value = var.buckets["data"].lifecycle.days }
output "raw_lifecycle" { value = var.buckets["raw"].lifecycle }
output "raw_has_extra" { value = can(var.buckets["raw"].extra) }
output "days_by_bucket" { value = { for name, b in var.buckets : name => b.lifecycle.days } }
output "locked" { value = [for name, b in var.buckets : name if b.object_lock == true] }
output "tag_counts" { value = { for name, b in var.buckets : name => length(b.tags) } }
output "service" { value = var.service }
output "service_ports" { value = var.service.ports }
