# Defaults nest: a default object gets the defaults of its own optional attributes, and so do
# defaults inside lists and maps.
variable "config" {
  type = object({
    logging = optional(object({
      level  = optional(string, "info")
      target = optional(object({
        bucket = optional(string, "central-logs")
        prefix = optional(string)
      }), {})
    }), {})
    workers = optional(list(object({
      size  = optional(string, "small")
      count = optional(number, 1)
    })), [{}, { size = "large" }])
    queues = optional(map(object({
      fifo = optional(bool, false)
      ttl  = optional(number, 60)
    })), { default = {} })
  })
  default = {}
}
variable "overridden" {
  type = object({
    logging = optional(object({
      level  = optional(string, "info")
      target = optional(object({
        bucket = optional(string, "central-logs")
      }), {})
    }), {})
  })
  default = { logging = { target = null } }
}
variable "given" {
  type = list(object({
    name  = string
    rules = optional(list(object({ days = optional(number, 30) })), [{}])
  }))
  default = [{ name = "a" }, { name = "b", rules = [{ days = 1 }, {}] }]
}

output "config" { value = var.config }
output "level" { value = var.config.logging.level }
output "bucket" { value = var.config.logging.target.bucket }
output "workers" { value = var.config.workers }
output "queues" { value = var.config.queues }
output "overridden" { value = var.overridden }
output "given" { value = var.given }
output "all_days" { value = flatten([for g in var.given : [for r in g.rules : r.days]]) }
