locals {
  doc = {
    name    = "app"
    ports   = [80, 443]
    enabled = true
    ratio   = 0.5
    nothing = null
    nested  = { "k-1" = "v<1>&" }
  }
}
output "jsonencode" { value = jsonencode(local.doc) }
output "jsonencode_list" { value = jsonencode(["a", 1, false]) }
output "jsondecode" { value = jsondecode("{\"a\": [1, 2], \"b\": \"x\"}") }
output "base64encode" { value = base64encode("charterguard") }
output "base64decode" { value = base64decode("aGVsbG8=") }
output "roundtrip" { value = jsondecode(jsonencode(local.doc)).ports }
output "jsonencode_control" { value = jsonencode("tab\t bs\u0008 ff\u000c soh\u0001 nl\n") }
