region  = "ap-south-1"
buckets = ["bronze", "silver", "gold"]
limits = {
  cpu    = 4
  memory = "8Gi"
}
untyped = 42
