module "net" {
  source = "./modules/net"
  cidr   = "10.1.0.0/16"
  names  = ["a", "b"]
}
output "subnets" { value = module.net.subnets }
output "by_name" { value = module.net.by_name }
