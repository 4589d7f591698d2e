output "basename" { value = [basename("/a/b/c.txt"), basename("a/b/"), basename("c"), basename("/"), basename(""), basename("//x//")] }
output "dirname" { value = [dirname("/a/b/c.txt"), dirname("a/b/"), dirname("c"), dirname("/"), dirname(""), dirname("/x"), dirname("a//b")] }
output "abspath_absolute" { value = abspath("/a/./b/../c/") }
output "abspath_relative" { value = startswith(abspath("x"), "/") && endswith(abspath("sub/../x"), "/x") }
output "abspath_module" { value = abspath(path.module) == abspath(".") }
output "pathexpand_plain" { value = pathexpand("/etc/../x") }
output "pathexpand_relative" { value = pathexpand("rel/~x") }
output "title" { value = title("hello world-wide web_x") }
output "format_yaml" { value = format("%s=%q", "k", yamlencode({ a = 1 })) }
output "trim_chain" { value = trimsuffix(trimprefix(trimspace("  prod-db.tf \n"), "prod-"), ".tf") }
output "strrev_unicode" { value = strrev("héllo") }
output "regex_named" { value = regexall("(?P<k>[a-z]+)=(?P<v>\\d+)", "a=1 b=22") }
