variable "who" {
  type = string
}
output "text" { value = file("${path.module}/own.txt") }
output "listing" { value = fileset(path.module, "*") }
output "rendered" { value = templatefile("${path.module}/hello.tftpl", { who = var.who }) }
output "root_file" { value = file("data/hello.txt") }
output "module_path" { value = path.module }
