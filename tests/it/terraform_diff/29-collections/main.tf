locals {
  envs    = ["dev", "prod"]
  regions = ["eu-west-1", "us-east-1", "ap-south-1"]
}
output "setproduct_lists" { value = setproduct(local.envs, local.regions) }
output "setproduct_three" { value = setproduct(["a"], [1, 2], [true, false]) }
output "setproduct_empty" { value = setproduct(local.envs, []) }
output "setproduct_objects" { value = setproduct([{ n = 1 }, { n = 2 }], ["x"]) }
output "setproduct_sets_count" { value = length(setproduct(toset(["a", "b", "a"]), toset([1, 2]))) }
output "setproduct_sets_contains" { value = contains(setproduct(toset(["a", "b"]), toset(["x"])), ["b", "x"]) }
output "setproduct_for_each" { value = { for pair in setproduct(local.envs, ["a", "b"]) : "${pair[0]}-${pair[1]}" => pair } }
output "setproduct_one" { value = can(setproduct(["a"])) }
output "chunklist" { value = chunklist(["a", "b", "c", "d", "e"], 2) }
output "chunklist_exact" { value = chunklist([1, 2, 3, 4], 4) }
output "chunklist_zero" { value = chunklist([1, 2, 3], 0) }
output "chunklist_empty" { value = chunklist([], 3) }
output "chunklist_negative" { value = can(chunklist([1], -1)) }
output "transpose" { value = transpose({ a = ["1", "2"], b = ["2", "3"], c = [] }) }
output "transpose_order" { value = transpose({ z = ["k"], a = ["k"], m = ["k", "j"] }) }
output "matchkeys" { value = matchkeys(["i-1", "i-2", "i-3"], ["us-a", "us-b", "us-a"], ["us-a"]) }
output "matchkeys_none" { value = matchkeys(["a", "b"], [1, 2], [3]) }
output "matchkeys_mismatch" { value = can(matchkeys(["a"], [1, 2], [1])) }
output "sensitive_roundtrip" { value = nonsensitive(sensitive({ a = [1, 2] })) }
output "ephemeralasnull" { value = ephemeralasnull("not ephemeral") }
output "core_namespace" { value = core::upper(core::join("-", ["a", "b"])) }
output "log" { value = [log(8, 2), log(100, 10), log(1, 5)] }
output "log_fraction" { value = log(10, 3) }
output "indent" { value = indent(2, "a\nb\n\nc") }
output "indent_zero" { value = indent(0, "a\nb") }
output "indent_single" { value = indent(4, "single") }
output "indent_trailing" { value = "list:\n  ${indent(2, "- a\n- b\n")}" }
output "sum_mixed" { value = sum([1, 2.5, -3]) }
output "parseint_big_base" { value = [parseint("zZ", 62), parseint("-FF", 16), parseint("777", 8)] }
