# Module call arguments are converted to the child's declared types, per instance.
locals {
  distributors = {
    "dst-001" = { tier = "gold", retention = "365" }
    "dst-002" = { tier = "silver" }
    "dst-003" = { tier = "bronze", retention = 7, object_lock = "false" }
  }
}
module "bucket" {
  source   = "./modules/bucket"
  for_each = local.distributors
  name     = each.key
  settings = each.value
  replicas = "2"
  zones    = ["b", "a", "b"]
}
module "single" {
  source   = "./modules/bucket"
  name     = 123
  settings = { tier = "gold", extra = ["ignored"] }
}

output "retention" { value = [module.bucket["dst-001"].retention, module.bucket["dst-002"].retention, module.bucket["dst-003"].retention] }
output "locks" { value = [module.bucket["dst-001"].object_lock, module.bucket["dst-002"].object_lock, module.bucket["dst-003"].object_lock] }
output "zones" { value = module.bucket["dst-001"].zones }
output "replicas" { value = module.bucket["dst-002"].replicas }
output "single_name" { value = module.single.name }
output "single_settings" { value = module.single.settings }
output "single_zones" { value = module.single.zones }
