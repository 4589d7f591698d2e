names   = ["web", "api", "web", 7]
sizes   = { small = 1, large = "8" }
network = { cidr = "10.0.0.0/16", public = "true" }
