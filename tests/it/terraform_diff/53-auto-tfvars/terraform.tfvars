environment    = "staging"
instance_count = "1"
rules          = []
