locals {
  a = { x = 1, y = 2 }
  b = { y = 20, z = 30 }
}
output "merge" { value = merge(local.a, local.b, { w = 0 }) }
output "lookup_hit" { value = lookup(local.a, "x", 99) }
output "lookup_miss" { value = lookup(local.a, "q", 99) }
output "concat" { value = concat(["a"], ["b", "c"], []) }
output "flatten" { value = flatten([["a", ["b"]], [], ["c"]]) }
output "keys" { value = keys(local.b) }
output "values" { value = values(local.b) }
output "zipmap" { value = zipmap(["k1", "k2"], ["v1", "v2"]) }
output "element" { value = element(["a", "b", "c"], 4) }
output "length_map" { value = length(local.a) }
output "length_str" { value = length("héllo") }
output "distinct" { value = distinct(["a", "b", "a", "c", "b"]) }
output "compact" { value = compact(["a", "", "b", ""]) }
output "reverse" { value = reverse([1, 2, 3]) }
output "slice" { value = slice(["a", "b", "c", "d"], 1, 3) }
output "contains" { value = contains(["a", "b"], "b") }
output "index" { value = index(["a", "b", "c"], "c") }
output "one" { value = one(["only"]) }
