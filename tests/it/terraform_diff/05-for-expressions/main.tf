variable "users" {
  default = {
    alice = { role = "admin", team = "core" }
    bob   = { role = "dev", team = "core" }
    carol = { role = "dev", team = "data" }
  }
}
variable "numbers" {
  default = [5, 3, 8, 1, 9, 2]
}
output "upper_names" { value = [for name, u in var.users : upper(name)] }
output "roles" { value = { for name, u in var.users : name => u.role } }
output "devs" { value = [for name, u in var.users : name if u.role == "dev"] }
output "by_team" { value = { for name, u in var.users : u.team => name... } }
output "big" { value = [for n in var.numbers : n * 10 if n > 4] }
output "indexed" { value = [for i, n in var.numbers : "${i}:${n}"] }
output "object_from_list" { value = { for n in ["x", "y"] : n => length(n) } }
output "nested_for" { value = [for a in [1, 2] : [for b in ["p", "q"] : "${a}${b}"]] }
output "set_iter" { value = [for s in toset(["z", "a", "m"]) : s] }
