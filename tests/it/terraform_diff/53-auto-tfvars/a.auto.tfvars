rules = [
  { port = "443" },
  { port = 22, protocol = "udp", cidrs = ["10.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16"] },
  { port = 80, cidrs = null },
]
features = { logging = "true", tracing = false, metrics = "false" }
