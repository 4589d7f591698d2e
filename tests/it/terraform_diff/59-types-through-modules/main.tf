# A value converted at the root, passed on through two levels of modules with other types.
variable "names" {
  type = list(string)
}
variable "sizes" {
  type = map(string)
}
variable "network" {
  type = object({
    cidr    = string
    subnets = optional(number, 2)
    public  = optional(bool, false)
  })
}
module "outer" {
  source  = "./modules/outer"
  names   = var.names
  sizes   = var.sizes
  network = var.network
}

output "names" { value = var.names }
output "sizes" { value = var.sizes }
output "network" { value = var.network }
output "outer_names" { value = module.outer.names }
output "outer_total" { value = module.outer.total }
output "inner" { value = module.outer.inner }
output "inner_subnets" { value = module.outer.subnets }
