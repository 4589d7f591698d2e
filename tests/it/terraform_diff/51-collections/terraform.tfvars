ports    = ["443", 80, "8080"]
zones    = ["ap-south-1b", "ap-south-1a", "ap-south-1b", "Zulu", "10", "9"]
sizes    = [10, "9", 1.5, 10, "100"]
switches = [true, "false", true]
labels   = { team = "data", replicas = 3, public = false }
limits   = { cpu = "2", memory = 512 }
triple   = ["x", "42", "true"]
matrix   = [[1, "a"], [], [true]]
groups = {
  admins  = ["zoe", "adam", "zoe"]
  readers = []
}
