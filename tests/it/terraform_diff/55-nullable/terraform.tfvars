retention     = null
region        = null
settings      = null
explicit_true = null
