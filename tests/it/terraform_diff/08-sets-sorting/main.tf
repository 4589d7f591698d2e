output "toset" { value = toset(["c", "a", "b", "a"]) }
output "sort" { value = sort(["banana", "apple", "Cherry", "10", "9"]) }
output "setunion" { value = setunion(["a", "b"], ["b", "c"], ["d"]) }
output "setintersection" { value = setintersection(["a", "b", "c"], ["b", "c", "d"]) }
output "setsubtract" { value = setsubtract(["a", "b", "c"], ["b"]) }
output "tolist_set" { value = tolist(toset(["q", "b"])) }
output "length_set" { value = length(toset(["a", "a", "b"])) }
output "tomap" { value = tomap({ a = "1", b = "2" }) }
output "min" { value = min(5, 2, 8) }
output "max" { value = max(5, 2.5, 8) }
output "max_expand" { value = max([3, 7, 1]...) }
output "sum" { value = sum([1, 2, 3.5]) }
output "alltrue" { value = alltrue([true, true]) }
output "anytrue" { value = anytrue([false, true]) }
