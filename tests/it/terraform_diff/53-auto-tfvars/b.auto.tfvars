instance_count = "5"
