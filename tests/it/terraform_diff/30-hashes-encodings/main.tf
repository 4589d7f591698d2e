locals {
  text = "Hello, wörld ✓"
}
output "md5" { value = md5(local.text) }
output "sha1" { value = sha1(local.text) }
output "sha256" { value = sha256(local.text) }
output "sha512" { value = sha512(local.text) }
output "base64sha256" { value = base64sha256(local.text) }
output "base64sha512" { value = base64sha512("") }
output "md5_empty" { value = md5("") }
output "uuidv5_dns" { value = uuidv5("dns", "www.terraform.io") }
output "uuidv5_url" { value = uuidv5("url", "https://www.terraform.io/") }
output "uuidv5_oid" { value = uuidv5("oid", "1.3.6.1.4") }
output "uuidv5_x500" { value = uuidv5("x500", "CN=Example") }
output "uuidv5_custom" { value = uuidv5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "name") }
output "uuidv5_braces" { value = uuidv5("{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}", "name") }
output "uuidv5_bad" { value = can(uuidv5("nope", "x")) }
output "base64encode" { value = base64encode(local.text) }
output "base64decode" { value = base64decode("SGVsbG8sIHfDtnJsZCDinJM=") }
output "base64decode_bad" { value = can(base64decode("SGVsbG8")) }
output "base64decode_binary" { value = can(base64decode("/w==")) }
output "textencode_utf16" { value = textencodebase64(local.text, "UTF-16LE") }
output "textencode_utf16be" { value = textencodebase64("A😀", "UTF-16BE") }
output "textencode_utf8" { value = textencodebase64(local.text, "UTF-8") }
output "textencode_latin1" { value = textencodebase64("café", "ISO-8859-1") }
output "textdecode_utf16" { value = textdecodebase64("SABlAGwAbABvAA==", "UTF-16LE") }
output "textdecode_latin1" { value = textdecodebase64("Y2Fm6Q==", "ISO-8859-1") }
output "textdecode_roundtrip" { value = textdecodebase64(textencodebase64(local.text, "UTF-16BE"), "UTF-16BE") }
output "urlencode" { value = urlencode("a b&c=d/é?~_.-*'+") }
output "gzip_empty" { value = base64gzip("") }
output "gzip_short" { value = base64gzip("hello") }
output "gzip_cloud_init" { value = base64gzip("#cloud-config\npackages: [nginx]\n") }
output "gzip_unicode" { value = base64gzip(local.text) }
