variable "names" {
  type = set(string)
}
variable "sizes" {
  type = map(number)
}
variable "network" {
  type = object({
    cidr    = string
    subnets = number
    public  = optional(bool, true)
    nat     = optional(bool, true)
  })
}
module "inner" {
  source   = "./../inner"
  for_each = var.names
  name     = each.value
  subnets  = [for i in range(var.network.subnets) : cidrsubnet(var.network.cidr, 8, i)]
  flags    = { public = var.network.public, nat = var.network.nat }
}
output "names" { value = var.names }
output "total" { value = sum(values(var.sizes)) }
output "inner" { value = [module.inner["7"].summary, module.inner["api"].summary, module.inner["web"].summary] }
output "subnets" { value = module.inner["web"].subnets }
