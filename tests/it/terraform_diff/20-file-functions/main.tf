locals {
  config = jsondecode(file("${path.module}/data/config.json"))
}
output "file" { value = file("data/hello.txt") }
output "file_module" { value = file("${path.module}/data/unicode.txt") }
output "file_empty" { value = file("data/empty.txt") }
output "file_dotdot" { value = file("data/sub/../hello.txt") }
output "filebase64" { value = filebase64("data/binary.bin") }
output "filebase64_text" { value = filebase64("data/unicode.txt") }
output "exists" { value = fileexists("data/hello.txt") }
output "exists_missing" { value = fileexists("data/nope.txt") }
output "filemd5" { value = filemd5("data/hello.txt") }
output "filesha1" { value = filesha1("data/binary.bin") }
output "filesha256" { value = filesha256("data/unicode.txt") }
output "filesha512" { value = filesha512("data/hello.txt") }
output "filebase64sha256" { value = filebase64sha256("data/binary.bin") }
output "filebase64sha512" { value = filebase64sha512("data/empty.txt") }
output "json" { value = local.config.nested }
output "yaml" { value = yamldecode(file("data/sub/values.yaml")) }
output "length" { value = length(file("data/unicode.txt")) }
output "binary_not_utf8" { value = can(file("data/binary.bin")) }
output "missing" { value = try(file("data/nope.txt"), "fallback") }
output "directory" { value = can(fileexists("data")) }
module "reader" {
  source = "./modules/reader"
  who    = "module"
}
output "module_file" { value = module.reader.text }
output "module_fileset" { value = module.reader.listing }
output "module_template" { value = module.reader.rendered }
output "module_reads_root_relative" { value = module.reader.root_file }
output "module_path" { value = module.reader.module_path }
