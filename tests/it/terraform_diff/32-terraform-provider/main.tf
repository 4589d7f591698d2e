terraform {
  required_providers {
    terraform = { source = "terraform.io/builtin/terraform" }
  }
}
locals {
  vars = {
    a    = 1
    bcd  = "x\ny\"$${z}%%{w}"
    list = [1, "two", true, null]
    obj  = { k = "v", longer_key = [], m = {} }
    f    = 1.5
    e    = {}
    n    = null
  }
}
output "encode_tfvars" { value = provider::terraform::encode_tfvars(local.vars) }
output "encode_tfvars_nested" { value = provider::terraform::encode_tfvars({ a = { "x y" = 1, b = 2 }, cc = [[1, 2], [{ k = 1 }]], d = 1 }) }
output "encode_tfvars_unicode_keys" { value = provider::terraform::encode_tfvars({ a_b-c = 1, "é" = 2 }) }
output "encode_tfvars_empty" { value = provider::terraform::encode_tfvars({}) }
output "encode_tfvars_bad_key" { value = can(provider::terraform::encode_tfvars({ "not valid" = 1 })) }
output "encode_tfvars_string" { value = can(provider::terraform::encode_tfvars("x")) }
output "encode_expr_object" { value = provider::terraform::encode_expr({ a = [1, { b = "c" }], "d e" = 2, "" = 3 }) }
output "encode_expr_aligned" { value = provider::terraform::encode_expr({ a = 1, bbb = 2, c = [{ dd = 1, e = 2 }], f = {} }) }
output "encode_expr_list_of_objects" { value = provider::terraform::encode_expr([{ a = 1 }, { b = 2 }]) }
output "encode_expr_string" { value = provider::terraform::encode_expr("é\t\u0001\u007f \u00a0") }
output "encode_expr_scalars" { value = [for v in [[], "x", 1.25, true, ["a", ["b"], {}]] : provider::terraform::encode_expr(v)] }
output "encode_expr_set" { value = provider::terraform::encode_expr(toset(["b", "a"])) }
output "decode_tfvars" { value = provider::terraform::decode_tfvars("a = 1\nb = \"x\"\nc = [1, \"2\"]\nd = { k = true }\n") }
output "decode_tfvars_expressions" { value = provider::terraform::decode_tfvars("a = 1 + 2\nb = \"$${1}\"\nc = \"x-$${2 * 3}\"\n") }
output "decode_tfvars_empty" { value = provider::terraform::decode_tfvars("") }
output "decode_tfvars_variable" { value = can(provider::terraform::decode_tfvars("a = var.x\n")) }
output "decode_tfvars_function" { value = can(provider::terraform::decode_tfvars("a = upper(\"x\")\n")) }
output "decode_tfvars_block" { value = can(provider::terraform::decode_tfvars("block {}\n")) }
output "decode_tfvars_syntax" { value = can(provider::terraform::decode_tfvars("a = \n")) }
output "round_trip" { value = provider::terraform::decode_tfvars(provider::terraform::encode_tfvars(local.vars)) == local.vars }
