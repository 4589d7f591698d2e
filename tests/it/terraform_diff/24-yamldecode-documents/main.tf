locals {
  app = yamldecode(file("app.yaml"))
}
output "app" { value = local.app }
output "service_replicas" { value = local.app.service.replicas }
output "override_first" { value = local.app.override_first.replicas }
output "doc_start" { value = yamldecode("---\na: 1\n") }
output "doc_end" { value = yamldecode("a: 1\n...\n") }
output "multi_document" { value = can(yamldecode("a: 1\n---\nb: 2\n")) }
output "empty" { value = can(yamldecode("")) }
output "comment_only" { value = can(yamldecode("# nothing\n")) }
output "syntax_error" { value = can(yamldecode("a: [1, 2\n")) }
output "bad_indent" { value = can(yamldecode("a:\n  b: 1\n c: 2\n")) }
output "merge_sequence" { value = can(yamldecode("<<: [{a: 1}]\n")) }
output "merge_scalar" { value = can(yamldecode("<<: 1\n")) }
output "quoted_merge" { value = yamldecode("\"<<\": {a: 2}\nb: 3\n") }
output "undefined_alias" { value = can(yamldecode("a: *nope\n")) }
output "duplicate_key" { value = yamldecode("a: 1\na: 2\n") }
output "list_root" { value = yamldecode("- 1\n- two\n- [3]\n") }
output "tagged_map" { value = yamldecode("!!map {a: 1}") }
output "bad_map_tag" { value = can(yamldecode("!!seq {a: 1}")) }
output "alias_scalar" { value = yamldecode("a: &x hello\nb: *x\n") }
output "crlf" { value = yamldecode("a: 1\r\nb: two\r\n") }
output "only_marker" { value = yamldecode("---\n") }
output "trailing_empty_document" { value = can(yamldecode("a: 1\n---\n")) }
output "document_end_only" { value = can(yamldecode("...\n")) }
