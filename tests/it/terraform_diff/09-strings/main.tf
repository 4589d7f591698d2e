locals {
  csv = "a,b,,c"
}
output "join" { value = join("-", ["x", "y", "z"]) }
output "split" { value = split(",", local.csv) }
output "replace" { value = replace("hello world", "o", "0") }
output "replace_regex" { value = replace("abc-123-def", "/[0-9]+/", "N") }
output "replace_groups" { value = replace("john smith", "/(\\w+) (\\w+)/", "$2, $1") }
output "substr" { value = substr("hello world", 6, 5) }
output "substr_neg" { value = substr("hello", -3, -1) }
output "upper" { value = upper("abc") }
output "lower" { value = lower("ABC") }
output "title" { value = title("hello big world") }
output "strrev" { value = strrev("abc") }
output "trimspace" { value = trimspace("  padded \n") }
output "trim" { value = trim("?!hello?!", "!?") }
output "trimprefix" { value = trimprefix("helloworld", "hello") }
output "trimsuffix" { value = trimsuffix("helloworld", "world") }
output "chomp" { value = chomp("line\n\n") }
output "startswith" { value = startswith("hello", "he") }
output "endswith" { value = endswith("hello", "lo") }
output "strcontains" { value = strcontains("hello", "ell") }
