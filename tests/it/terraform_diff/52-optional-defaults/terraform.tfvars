buckets = {
  logs = {}
  data = {
    versioning  = false
    object_lock = "true"
    lifecycle   = { days = "30" }
    tags        = { team = "data", cost_centre = 42 }
  }
  raw = {
    lifecycle = null
    versioning = null
    extra     = "dropped"
  }
  archive = {
    lifecycle = { storage_class = "GLACIER" }
  }
}
service = {
  name     = "api"
  replicas = "3"
  unused   = true
}
