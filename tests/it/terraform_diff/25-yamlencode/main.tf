locals {
  long = "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss tttt uuuu vvvv"
  doc = {
    name     = "web"
    replicas = 3
    ratio    = 0.25
    enabled  = true
    nothing  = null
    ports    = [80, 443]
    labels   = { app = "web", "app.kubernetes.io/name" = "web" }
    script   = "#!/bin/sh\necho hello\n"
    nested   = [[1, [2]], { a = [{ b = 1 }] }, [], {}]
  }
}
output "doc" { value = yamlencode(local.doc) }
output "round_trip" { value = yamldecode(yamlencode(local.doc)) == local.doc }
output "null" { value = yamlencode(null) }
output "bool" { value = yamlencode(false) }
output "number" { value = yamlencode(5) }
output "float" { value = yamlencode(-0.5) }
output "big" { value = yamlencode([1e20, 1.0e-7, 123456789012, 3.14159265358979]) }
output "string" { value = yamlencode("x") }
output "empty_string" { value = yamlencode("") }
output "space" { value = yamlencode(" ") }
output "empty_list" { value = yamlencode([]) }
output "empty_map" { value = yamlencode({}) }
output "yes_string" { value = yamlencode(["yes", "no", "on", "1", "1.5", "null", "~", "true"]) }
output "trailing_newline" { value = yamlencode("a\nb\n") }
output "keep_newlines" { value = yamlencode("a\nb\n\n") }
output "only_newline" { value = yamlencode("\n") }
output "two_newlines" { value = yamlencode("\n\n") }
output "leading_space" { value = yamlencode("  a\nb") }
output "leading_newline" { value = yamlencode("\na") }
output "space_before_break" { value = yamlencode("a \nb") }
output "trailing_space" { value = yamlencode("a\nb ") }
output "break_then_space" { value = yamlencode("a\n b") }
output "tab" { value = yamlencode("a\tb") }
output "tab_block" { value = yamlencode("a\n\tb") }
output "controls" { value = yamlencode("\u0000\u0007\u0008\u000b\u000c\u001b\u0001\u007f") }
output "unicode" { value = yamlencode("héllo ✓ \u00a0 \u2028 😀 \u0085 \ufeff") }
output "escapes" { value = yamlencode("q\"b\\s") }
output "crlf" { value = yamlencode("a\r\nb") }
output "long" { value = yamlencode(local.long) }
output "long_in_map" { value = yamlencode({ a = { b = local.long } }) }
output "long_in_list" { value = yamlencode([[local.long]]) }
output "double_space_wrap" { value = yamlencode("aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq  rrrr") }
output "long_no_space" { value = yamlencode(join("", [for i in range(30) : "abcd"])) }
output "multiline_key" { value = yamlencode({ "x\ny" = 1, "" = 2, "a\"b" = 3, "é" = 4, B = 5 }) }
output "long_key" { value = yamlencode({ (join("", [for i in range(40) : "abcd"])) = 1 }) }
output "literal_nested" { value = yamlencode({ a = { b = ["x\n  y\n"] } }) }
output "list_of_maps" { value = yamlencode([{ a = 1, b = "x\ny" }, { c = [] }]) }
