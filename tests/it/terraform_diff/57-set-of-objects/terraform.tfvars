ingress = [
  { port = 443, cidr = "10.0.0.0/8" },
  { port = "80", cidr = "0.0.0.0/0" },
  { port = 10, cidr = "10.0.0.0/8", protocol = "udp" },
  { port = 443, cidr = "10.0.0.0/8", protocol = "tcp" },
  { port = 2, cidr = "10.0.0.0/8" },
  { port = 1.5, cidr = "10.0.0.0/8" },
]
